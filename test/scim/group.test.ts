import { describe, expect, it } from 'vitest';
import { isAdapterError } from '../../lib/errors.ts';
import {
  groupQueryOf,
  membershipChanges,
  namedMembers,
  parseGroupPatch,
  parseGroupPost,
  parseGroupPut,
  renderGroup,
} from '../../lib/scim/group.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patch = (...Operations: unknown[]) => parseGroupPatch({ schemas: [PATCH_OP], Operations });
const members = (...ids: string[]) => ids.map((value) => ({ value }));

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return isAdapterError(error) ? error.code : 'not an AdapterError';
  }
  return undefined;
};

describe('parseGroupPatch: Entra', () => {
  it('reads Add and Remove on members with a value list, whatever the case of op', () => {
    expect(
      patch(
        { op: 'Add', path: 'members', value: members('u1', 'u2') },
        { op: 'REMOVE', path: 'members', value: members('u3') },
      ).steps,
    ).toEqual([
      { op: 'add', members: ['u1', 'u2'] },
      { op: 'remove', members: ['u3'] },
    ]);
  });

  it('reads Remove with a members[value eq "…"] path', () => {
    expect(patch({ op: 'Remove', path: 'members[value eq "u7"]' }).steps).toEqual([
      { op: 'remove', members: ['u7'] },
    ]);
  });

  it('keeps a displayName replace apart from the member steps, and ignores externalId', () => {
    const plan = patch(
      { op: 'Replace', path: 'displayName', value: 'Renamed' },
      { op: 'Replace', path: 'externalId', value: 'ext-1' },
    );
    expect(plan).toEqual({ steps: [], displayName: 'Renamed' });
  });

  it('reads a remove of members without a value as emptying the group', () => {
    expect(patch({ op: 'remove', path: 'members' }).steps).toEqual([
      { op: 'replace', members: [] },
    ]);
  });
});

describe('parseGroupPatch: Okta', () => {
  it('reads replace of the member list, and a path-less replace of id and displayName', () => {
    expect(
      patch(
        { op: 'replace', path: 'members', value: members('u1') },
        { op: 'replace', value: { id: 'g1', displayName: 'Admins' } },
        { op: 'add', value: { members: members('u2') } },
      ),
    ).toEqual({
      steps: [
        { op: 'replace', members: ['u1'] },
        { op: 'add', members: ['u2'] },
      ],
      displayName: 'Admins',
    });
  });
});

describe('parseGroupPatch: refusals', () => {
  it.each([
    ['a body that is not a PatchOp', 'x', 'SCIM_INVALID_SYNTAX'],
    ['no operations', { Operations: [] }, 'SCIM_INVALID_SYNTAX'],
    ['an unknown op', { Operations: [{ op: 'move', path: 'members' }] }, 'SCIM_INVALID_SYNTAX'],
    [
      'a member without a value',
      { Operations: [{ op: 'add', path: 'members', value: [{}] }] },
      'SCIM_INVALID_VALUE',
    ],
    [
      'an attribute groups do not have',
      { Operations: [{ op: 'add', path: 'owner', value: 'x' }] },
      'SCIM_INVALID_PATH',
    ],
    [
      'a member filter on something else',
      { Operations: [{ op: 'remove', path: 'members[display eq "x"]' }] },
      'SCIM_INVALID_PATH',
    ],
    [
      'an add with a member filter',
      { Operations: [{ op: 'add', path: 'members[value eq "u"]', value: {} }] },
      'SCIM_INVALID_PATH',
    ],
    ['a remove without a path', { Operations: [{ op: 'remove' }] }, 'SCIM_INVALID_PATH'],
    [
      'removing displayName',
      { Operations: [{ op: 'remove', path: 'displayName' }] },
      'SCIM_MUTABILITY',
    ],
  ])('refuses %s', (_what, body, code) => {
    expect(codeOf(() => parseGroupPatch(body))).toBe(code);
  });
});

describe('parseGroupPut', () => {
  it('reads the member list as one replace', () => {
    expect(
      parseGroupPut({ id: 'g1', displayName: 'Admins', members: members('u1', 'u2') }, 'g1'),
    ).toEqual({ steps: [{ op: 'replace', members: ['u1', 'u2'] }], displayName: 'Admins' });
  });

  it('leaves members as they are when the PUT has none, and empties them for []', () => {
    expect(parseGroupPut({ displayName: 'Admins' }, 'g1').steps).toEqual([]);
    expect(parseGroupPut({ members: [] }, 'g1').steps).toEqual([{ op: 'replace', members: [] }]);
  });

  it('refuses another id', () => {
    expect(codeOf(() => parseGroupPut({ id: 'g2', members: [] }, 'g1'))).toBe('SCIM_MUTABILITY');
  });
});

describe('membershipChanges', () => {
  it('without current members: one change per user, its last step winning, in first-named order', () => {
    expect(
      membershipChanges([
        { op: 'add', members: ['u1', 'u2'] },
        { op: 'remove', members: ['u1', 'u3'] },
      ]),
    ).toEqual([
      { userId: 'u1', member: false },
      { userId: 'u2', member: true },
      { userId: 'u3', member: false },
    ]);
  });

  it('with current members: the set difference, removals first, nothing for the unchanged', () => {
    expect(
      membershipChanges([{ op: 'replace', members: ['u2', 'u4', 'u3'] }], new Set(['u1', 'u2'])),
    ).toEqual([
      { userId: 'u1', member: false },
      { userId: 'u4', member: true },
      { userId: 'u3', member: true },
    ]);
  });

  it('folds steps after a replace over the replaced set', () => {
    expect(
      membershipChanges(
        [
          { op: 'replace', members: ['u1'] },
          { op: 'add', members: ['u2'] },
          { op: 'remove', members: ['u1'] },
        ],
        new Set(['u1', 'u9']),
      ),
    ).toEqual([
      { userId: 'u1', member: false },
      { userId: 'u9', member: false },
      { userId: 'u2', member: true },
    ]);
  });

  it('needs the current members for a replace', () => {
    expect(codeOf(() => membershipChanges([{ op: 'replace', members: [] }]))).toBe('INTERNAL');
  });

  it('counts each member once across steps', () => {
    expect(
      namedMembers([
        { op: 'add', members: ['u1', 'u2'] },
        { op: 'remove', members: ['u2', 'u3'] },
      ]),
    ).toEqual(['u1', 'u2', 'u3']);
  });
});

describe('groupQueryOf', () => {
  it('reads eq on displayName, id and externalId, attribute names in any case', () => {
    expect(groupQueryOf('displayName eq "Staff"')).toEqual({ by: 'displayName', value: 'Staff' });
    expect(groupQueryOf('ID eq "g1"')).toEqual({ by: 'id', value: 'g1' });
    expect(groupQueryOf('externalId eq "e"')).toEqual({ by: 'externalId', value: 'e' });
  });

  it.each(['displayName co "S"', 'members eq "u1"', 'displayName eq 1', 'not valid'])(
    'refuses %s as invalidFilter',
    (filter) => {
      expect(codeOf(() => groupQueryOf(filter))).toBe('SCIM_INVALID_FILTER');
    },
  );
});

describe('renderGroup', () => {
  it('renders id, displayName, members with $ref and display, and meta times', () => {
    expect(
      renderGroup(
        { UserGroupId: 'g1', DisplayName: 'Staff', CreatedDate: 0 },
        'https://h/scim/v2/c',
        [{ UserId: 'u1', UserName: 'alice' }],
      ),
    ).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      id: 'g1',
      displayName: 'Staff',
      members: [{ value: 'u1', $ref: 'https://h/scim/v2/c/Users/u1', display: 'alice' }],
      meta: {
        resourceType: 'Group',
        location: 'https://h/scim/v2/c/Groups/g1',
        created: '1970-01-01T00:00:00.000Z',
      },
    });
  });
});

describe('scim/group parseGroupPost', () => {
  it('names the group to link by displayName and adds the posted members', () => {
    expect(
      parseGroupPost({ displayName: 'Staff', members: [{ value: 'u1' }, { value: 'u2' }] }),
    ).toEqual({ displayName: 'Staff', plan: { steps: [{ op: 'add', members: ['u1', 'u2'] }] } });
    expect(parseGroupPost({ displayName: 'Staff' })).toEqual({
      displayName: 'Staff',
      plan: { steps: [] },
    });
  });

  it('refuses a POST without a displayName or with members that are not a list', () => {
    for (const body of [{}, { displayName: ' ' }, { displayName: 'S', members: 'u1' }, 'x']) {
      expect(() => parseGroupPost(body)).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^SCIM_INVALID_(VALUE|SYNTAX)$/) }),
      );
    }
  });
});
