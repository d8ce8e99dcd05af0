import { describe, expect, it } from 'vitest';
import {
  checkFilter,
  compileFilter,
  connectionFilter,
  FILTER_LIMITS,
  type FilterInput,
  type FilterNode,
} from '../../lib/filter/index.ts';
import { thrown } from '../helpers/thrown.ts';

// A Clerk user.updated as the adapter sees it: the canonical change, its mapped update, the body.
const clerk: FilterInput = {
  change: {
    eventType: 'user.updated',
    subject: { externalId: 'user_1', email: 'ana@example.com' },
    attributes: {
      email: 'ana@example.com',
      groups: ['Engineering', 'Staff'],
      custom: { level: 3 },
    },
    raw: {
      id: 'user_1',
      email_addresses: [
        { email_address: 'ana@example.com', verification: { status: 'verified' } },
        { email_address: 'ana@other.org', verification: null },
      ],
      public_metadata: { employee: true, nested: [['deep']] },
      organization_memberships: [{ organization: { id: 'org_1' } }],
      username: null,
    },
  },
  update: { UserStoreId: 'store', Email: 'ana@example.com' },
  payload: { type: 'user.updated', data: { id: 'user_1' } },
};

const matches = (filter: FilterNode, input: FilterInput = clerk) => compileFilter(filter)(input);

describe('compileFilter: conditions', () => {
  it.each([
    [{ path: 'change.subject.email', op: 'eq', value: 'ana@example.com' }, true],
    [{ path: 'change.subject.email', op: 'eq', value: 'ANA@example.com' }, false],
    [{ path: 'update.Email', op: 'endsWith', value: '@example.com' }, true],
    [{ path: 'update.Email', op: 'endsWith', value: '@example.org' }, false],
    [{ path: 'update.Email', op: 'startsWith', value: 'ana@' }, true],
    [{ path: 'payload.type', op: 'in', value: ['user.created', 'user.updated'] }, true],
    [{ path: 'payload.type', op: 'in', value: ['user.created'] }, false],
    [{ path: 'change.attributes.custom.level', op: 'gt', value: 2 }, true],
    [{ path: 'change.attributes.custom.level', op: 'lt', value: 3 }, false],
    [{ path: 'change.raw.public_metadata.employee', op: 'eq', value: true }, true],
    [{ path: 'change.raw.public_metadata.employee', op: 'exists' }, true],
  ] as const)('%j → %s', (filter, expected) => {
    expect(matches(filter as FilterNode)).toBe(expected);
  });

  it('compares strictly: no conversion between strings, numbers and booleans', () => {
    expect(matches({ path: 'change.attributes.custom.level', op: 'eq', value: '3' })).toBe(false);
    expect(matches({ path: 'change.attributes.custom.level', op: 'in', value: ['3'] })).toBe(false);
    expect(matches({ path: 'change.raw.public_metadata.employee', op: 'eq', value: 'true' })).toBe(
      false,
    );
    // gt and lt compare numbers only; startsWith only strings.
    expect(matches({ path: 'update.Email', op: 'gt', value: 0 })).toBe(false);
    expect(matches({ path: 'change.attributes.custom.level', op: 'startsWith', value: '3' })).toBe(
      false,
    );
  });

  it('reads an absent path as absent: exists false, ne true, everything else false', () => {
    for (const path of [
      'change.subject.phone', // missing
      'change.raw.username', // null
      'payload.data.id.more', // through a string
      'change.raw.public_metadata.missing.deeper',
    ]) {
      expect(matches({ path, op: 'exists' }), path).toBe(false);
      expect(matches({ path, op: 'ne', value: 'x' }), path).toBe(true);
      expect(matches({ path, op: 'eq', value: 'x' }), path).toBe(false);
      expect(matches({ path, op: 'in', value: ['x'] }), path).toBe(false);
      expect(matches({ path, op: 'endsWith', value: 'x' }), path).toBe(false);
      expect(matches({ path, op: 'lt', value: 1e9 }), path).toBe(false);
    }
  });

  it('reads a root the input leaves out as absent (payload outside webhooks)', () => {
    const { payload: _payload, ...withoutPayload } = clerk;
    expect(matches({ path: 'payload.type', op: 'exists' }, withoutPayload)).toBe(false);
    expect(matches({ path: 'payload', op: 'exists' }, withoutPayload)).toBe(false);
    expect(matches({ path: 'payload', op: 'exists' })).toBe(true);
  });

  it('matches through arrays when any element does, at any step of the path', () => {
    expect(matches({ path: 'change.attributes.groups', op: 'eq', value: 'Engineering' })).toBe(
      true,
    );
    expect(matches({ path: 'change.attributes.groups', op: 'eq', value: 'Sales' })).toBe(false);
    expect(
      matches({
        path: 'change.raw.organization_memberships.organization.id',
        op: 'eq',
        value: 'org_1',
      }),
    ).toBe(true);
    expect(
      matches({
        path: 'change.raw.email_addresses.email_address',
        op: 'endsWith',
        value: '@other.org',
      }),
    ).toBe(true);
    // One element with null is absent there; another element has it.
    expect(matches({ path: 'change.raw.email_addresses.verification.status', op: 'exists' })).toBe(
      true,
    );
  });

  it('takes ne as not eq, also through arrays: true only when no element equals', () => {
    expect(matches({ path: 'change.attributes.groups', op: 'ne', value: 'Engineering' })).toBe(
      false,
    );
    expect(matches({ path: 'change.attributes.groups', op: 'ne', value: 'Sales' })).toBe(true);
  });

  it('does not look into an array inside an array, nor match an empty one', () => {
    expect(matches({ path: 'change.raw.public_metadata.nested', op: 'eq', value: 'deep' })).toBe(
      false,
    );
    expect(
      matches(
        { path: 'change.attributes.groups', op: 'exists' },
        { change: { attributes: { groups: [] } } },
      ),
    ).toBe(false);
  });

  it('reads own properties only', () => {
    expect(matches({ path: 'change.subject.constructor', op: 'exists' })).toBe(false);
    expect(matches({ path: 'change.subject.toString', op: 'exists' })).toBe(false);
  });
});

describe('compileFilter: groups', () => {
  const org = { path: 'change.raw.organization_memberships.organization.id', op: 'eq' } as const;
  it('combines with all, any and not', () => {
    const inOrg: FilterNode = { ...org, value: 'org_1' };
    const elsewhere: FilterNode = { ...org, value: 'org_2' };
    expect(matches({ all: [inOrg, { path: 'update.Email', op: 'exists' }] })).toBe(true);
    expect(matches({ all: [inOrg, elsewhere] })).toBe(false);
    expect(matches({ any: [elsewhere, inOrg] })).toBe(true);
    expect(matches({ any: [elsewhere] })).toBe(false);
    expect(matches({ not: elsewhere })).toBe(true);
    expect(matches({ not: { any: [inOrg, elsewhere] } })).toBe(false);
  });

  it('records the roots it reads, so callers know whether it needs the update', () => {
    const filter = compileFilter({
      any: [
        { path: 'change.subject.email', op: 'exists' },
        { not: { path: 'payload.type', op: 'eq', value: 'x' } },
      ],
    });
    expect([...filter.roots].sort()).toEqual(['change', 'payload']);
  });

  it('gives no filter for a connection without one', () => {
    expect(connectionFilter({})).toBeUndefined();
    expect(connectionFilter({ filter: { path: 'update.Email', op: 'exists' } })?.(clerk)).toBe(
      true,
    );
  });
});

describe('checkFilter', () => {
  const at = '/connections/2/filter';
  const condition = { path: 'change.subject.email', op: 'exists' };

  it('accepts a filter at its limits', () => {
    // 4 nested groups, 32 conditions, an `in` of 100 values, strings of 256, paths of 8 segments.
    const long = 'x'.repeat(FILTER_LIMITS.stringLength);
    const leaves = Array.from({ length: 31 }, (_, i) => ({
      path: `payload.a.b.c.d.e.f.${i}`,
      op: 'eq',
      value: long,
    }));
    const filter = {
      not: {
        all: [
          { any: [{ not: { path: 'change.x', op: 'in', value: Array(100).fill(1) } }] },
          ...leaves,
        ],
      },
    };
    expect(checkFilter(filter, at)).toEqual([]);
    expect(() => compileFilter(filter as FilterNode)).not.toThrow();
  });

  it.each([
    [
      'a fifth nested group',
      { not: { not: { not: { not: { not: condition } } } } },
      `${at}/not/not/not/not`,
      'nests groups deeper than 4 levels',
    ],
    [
      'an unknown root',
      { path: 'user.email', op: 'exists' },
      `${at}/path`,
      'must start with change, update, payload',
    ],
    [
      'a path of 9 segments',
      { path: 'change.a.b.c.d.e.f.g.h', op: 'exists' },
      `${at}/path`,
      'has 9 segments, more than 8',
    ],
    [
      'an empty segment',
      { path: 'change..email', op: 'exists' },
      `${at}/path`,
      'has an empty segment',
    ],
    [
      'an unknown operator',
      { path: 'change.a', op: 'matches', value: '.*' },
      `${at}/op`,
      'must be one of',
    ],
    [
      'a value for exists',
      { path: 'change.a', op: 'exists', value: true },
      `${at}/value`,
      '"exists" takes no value',
    ],
    ['no value for eq', { path: 'change.a', op: 'eq' }, `${at}/value`, '"eq" takes'],
    [
      'a string for gt',
      { path: 'change.a', op: 'gt', value: '3' },
      `${at}/value`,
      '"gt" takes a number',
    ],
    [
      'a number for startsWith',
      { path: 'change.a', op: 'startsWith', value: 3 },
      `${at}/value`,
      '"startsWith" takes a string',
    ],
    [
      'an empty startsWith',
      { path: 'change.a', op: 'endsWith', value: '' },
      `${at}/value`,
      '"endsWith" takes a string of 1 to 256',
    ],
    [
      'a scalar for in',
      { path: 'change.a', op: 'in', value: 'x' },
      `${at}/value`,
      '"in" takes a list of 1 to 100 values',
    ],
    [
      '101 values for in',
      { path: 'change.a', op: 'in', value: Array(101).fill('x') },
      `${at}/value`,
      '"in" takes a list',
    ],
    [
      'an object in an in list',
      { path: 'change.a', op: 'in', value: [{}] },
      `${at}/value`,
      'every "in" value',
    ],
    [
      'a 257-character string',
      { path: 'change.a', op: 'eq', value: 'x'.repeat(257) },
      `${at}/value`,
      '"eq" takes a string of at most 256',
    ],
    [
      'a group with a condition beside it',
      { all: [condition], path: 'change.a' },
      at,
      'a "all" group must have no other property',
    ],
    ['an empty any', { any: [] }, `${at}/any`, 'must be a non-empty list'],
    ['not an object', { all: ['change.a'] }, `${at}/all/0`, 'must be an object'],
    [
      'an unknown property',
      { path: 'change.a', op: 'exists', regex: 'x' },
      at,
      'must NOT have property "regex"',
    ],
  ])('refuses %s, at its path', (_name, filter, path, message) => {
    const problems = checkFilter(filter, at);
    expect(problems).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it('refuses more than 32 conditions, at the filter', () => {
    const filter = {
      any: [{ all: Array(20).fill(condition) }, { all: Array(13).fill(condition) }],
    };
    expect(checkFilter(filter, at)).toEqual([
      { path: at, message: 'has 33 conditions, more than 32' },
    ]);
  });

  it('reports every problem, each at its own pointer', () => {
    const filter = {
      all: [
        condition,
        { path: 'nowhere', op: 'exists' },
        { path: 'change.a', op: 'gt', value: 'x' },
      ],
    };
    expect(checkFilter(filter, at).map((problem) => problem.path)).toEqual([
      `${at}/all/1/path`,
      `${at}/all/2/value`,
    ]);
  });

  it('is what compileFilter refuses with CONFIG_INVALID', () => {
    const error = thrown(() => compileFilter({ path: 'user.email', op: 'exists' }));
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      details: [{ path: '/filter/path', message: expect.stringContaining('must start with') }],
    });
  });
});
