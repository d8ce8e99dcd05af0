import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.ts';
import type { ConfigError } from '../../lib/errors.ts';
import { createRuntime } from '../../lib/runtime/index.ts';

// A connection's `filter` in the config: its shape checked by the generated validator of the
// deployed registry, its limits and operators' values by the loader (checkFilter), every problem
// named by its JSON Pointer, before the first request.

const connection = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  source: 'standard-webhooks',
  userStoreId: 'store-1',
  secrets: { signing: [{ name: 'app/clerk', key: 'signingSecret' }] },
  resolve: { by: 'email' },
  ...extra,
});

const configWith = (...connections: unknown[]) => ({
  ciam: { credentials: { name: 'ciam/creds' } },
  connections,
});

const problemsOf = (config: unknown): { path: string; message: string }[] => {
  try {
    parseConfig(config);
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    return (error as ConfigError).details as { path: string; message: string }[];
  }
  throw new Error('expected a ConfigError');
};

const domain = { path: 'change.subject.email', op: 'endsWith', value: '@example.com' };

describe('config: connection filters', () => {
  it('keeps a valid filter as written', () => {
    const filter = {
      all: [
        domain,
        { not: { path: 'change.raw.public_metadata.contractor', op: 'eq', value: true } },
        { any: [{ path: 'payload.type', op: 'in', value: ['user.created', 'user.updated'] }] },
      ],
    };
    const config = parseConfig(configWith(connection('clerk', { filter })));
    expect(config.connections[0]?.filter).toEqual(filter);
  });

  it('reports shape problems from the schema, each at its pointer', () => {
    const problems = problemsOf(
      configWith(
        connection('a'),
        connection('b', {
          filter: {
            all: [
              domain,
              { path: 'change.subject.email' },
              { path: 'change.subject.email', op: 'matches', value: '.*@example.com' },
              { any: [domain], not: domain },
              { path: 'change.subject.email', op: 'eq', value: { nested: true } },
            ],
          },
        }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '/connections/1/filter/all/1', message: "must have required property 'op'" },
        {
          path: '/connections/1/filter/all/2/op',
          message: expect.stringContaining('must be one of "eq", "ne", "in", "exists"'),
        },
        { path: '/connections/1/filter/all/3', message: 'must NOT have more than 1 properties' },
        { path: '/connections/1/filter/all/4/value', message: expect.any(String) },
      ]),
    );
    expect(problems.every((problem) => problem.path.startsWith('/connections/1/filter/'))).toBe(
      true,
    );
  });

  it('reports what only the loader counts: paths, depth, conditions, values per operator', () => {
    const deep = { not: { not: { not: { not: { not: domain } } } } };
    const problems = problemsOf(
      configWith(
        connection('a', { filter: { all: [domain, { path: 'user.email', op: 'exists' }] } }),
        connection('b', { filter: deep }),
        connection('c', { filter: { any: Array(33).fill(domain) } }),
        connection('d', {
          filter: { path: 'change.attributes.custom.level', op: 'gt', value: '3' },
        }),
        connection('e', { filter: { path: 'change.a.b.c.d.e.f.g.h', op: 'exists', value: true } }),
      ),
    );
    expect(problems).toEqual([
      // 33 members: the schema's maxItems reports it (schema problems come first).
      { path: '/connections/2/filter/any', message: 'must NOT have more than 32 items' },
      {
        path: '/connections/0/filter/all/1/path',
        message: 'must start with change, update, payload (then ".", then a name)',
      },
      {
        path: '/connections/1/filter/not/not/not/not',
        message: 'nests groups deeper than 4 levels',
      },
      { path: '/connections/3/filter/value', message: '"gt" takes a number' },
      { path: '/connections/4/filter/path', message: 'has 9 segments, more than 8' },
      { path: '/connections/4/filter/value', message: '"exists" takes no value' },
    ]);
  });

  it('counts conditions across groups', () => {
    const filter = { all: [{ any: Array(17).fill(domain) }, { any: Array(16).fill(domain) }] };
    expect(problemsOf(configWith(connection('a', { filter })))).toEqual([
      { path: '/connections/0/filter', message: 'has 33 conditions, more than 32' },
    ]);
  });

  it('refuses a filter on a scim connection', () => {
    const scim = connection('scim', {
      source: 'scim',
      filter: domain,
    });
    expect(problemsOf(configWith(scim))).toEqual([
      {
        path: '/connections/0/filter',
        message: expect.stringContaining('scim connections take no filter'),
      },
    ]);
  });

  it('fails the cold start, naming the path, before any request', () => {
    const local = JSON.parse(readFileSync('config/local.json', 'utf8'));
    local.connections[2].filter = { all: [domain, { path: 'change.email', op: 'startsWith' }] };
    expect(() =>
      createRuntime(
        { ADAPTER_CONFIG: 'virtual.json', ADAPTER_SECRETS_FILE: 'config/local-secrets.json' },
        { readFile: () => JSON.stringify(local) },
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(
          '/connections/2/filter/all/1/value: "startsWith" takes a string',
        ),
      }),
    );
  });
});
