import { describe, expect, it } from 'vitest';
import {
  connectionTag,
  customField,
  decodeClocks,
  encodeClocks,
  eventTag,
} from '../../lib/ciam/field-clocks.ts';
import type { StaleGuard } from '../../lib/ciam/stale-guard.ts';
import type { CiamUser } from '../../lib/ciam/types.ts';
import type { Connection } from '../../lib/config/types.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { DEFAULT_NAME_ATTRIBUTES } from '../../lib/scim/names.ts';
import { CORE_USER_SCHEMA } from '../../lib/scim/patch.ts';
import {
  assertCreatable,
  clockedChanges,
  createRequestOf,
  lookupSubjectOf,
  missingForCreate,
  planChanges,
  planDraft,
  planPatch,
  planPut,
  readBodyUser,
  readNewUser,
  statusChange,
  storedAfterUpdate,
  targetOf,
  uniquenessProbes,
  updateRequestOf,
} from '../../lib/scim/plan.ts';
import { toScimUser } from '../../lib/scim/user.ts';
import { thrown } from '../helpers/thrown.ts';

const connection = {
  id: 'scim',
  userStoreId: 'local-store',
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
} satisfies Pick<Connection, 'id' | 'userStoreId' | 'resolve' | 'mapping'>;
const mapper = compileMapping(connection);
const META = { eventId: 'evt-1', occurredAt: '2025-01-01T00:00:00.000Z' };

const stored: CiamUser = {
  UserId: 'u-1',
  UserName: 'alice',
  Email: 'alice@example.com',
  PhoneNumber: '+6581234567',
  Nickname: 'Old Nick',
  IndexedAttribute1: 'ext-alice',
  Status: 'NORMAL',
  CustomAttributes: [{ Name: 'site', Value: 'SG' }],
};
const storedScim = () => toScimUser(connection, stored);

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patchBody = (...operations: unknown[]) => ({
  schemas: [PATCH_OP],
  Operations: operations,
});

describe('scim/plan readBodyUser / readNewUser', () => {
  it('reads booleans written as strings and attribute names in any case, keeping the id', () => {
    expect(
      readBodyUser({
        schemas: [CORE_USER_SCHEMA.toUpperCase()],
        id: 'x',
        Active: 'False',
        USERNAME: 'a',
      }),
    ).toEqual({ id: 'x', active: false, userName: 'a' });
    expect(readBodyUser({ userName: 'a' })).toEqual({ userName: 'a' });
  });

  it.each([
    ['an array', [1]],
    ['null', null],
    ['a string', 'user'],
    ['schemas without the core User', { schemas: ['urn:other'], userName: 'a' }],
    ['schemas that is not a list', { schemas: CORE_USER_SCHEMA, userName: 'a' }],
  ])('refuses %s with SCIM_INVALID_SYNTAX', (_name, body) => {
    expect(thrown(() => readBodyUser(body))).toMatchObject({ code: 'SCIM_INVALID_SYNTAX' });
  });

  it('needs a userName to create or link', () => {
    for (const body of [{}, { userName: '  ' }, { userName: 7 }]) {
      expect(thrown(() => readNewUser(body))).toMatchObject({ code: 'SCIM_INVALID_VALUE' });
    }
    expect(readNewUser({ userName: 'dave' })).toEqual({ userName: 'dave' });
  });
});

describe('scim/plan PATCH and PUT plans', () => {
  it('PATCH applies its operations to the stored user; PUT asks for the body whatever is stored', () => {
    const patch = planPatch(
      'scim',
      'u-1',
      patchBody({ op: 'replace', path: 'name.givenName', value: 'Jane' }),
    );
    expect(targetOf(patch, storedScim)).toMatchObject({
      userName: 'alice',
      displayName: 'Old Nick',
      name: { givenName: 'Jane' },
    });
    const put = planPut('scim', 'u-1', { userName: 'alice', name: { givenName: 'Jane' } });
    const target = targetOf(put, () => {
      throw new Error('PUT must not read the stored user');
    });
    expect(target).toEqual({ id: 'u-1', userName: 'alice', name: { givenName: 'Jane' } });
  });

  it('turns the same intent into different writes: PATCH keeps the stored name, PUT replaces it', async () => {
    const changesOf = async (plan: ReturnType<typeof planPut>) =>
      planChanges(connection, mapper, targetOf(plan, storedScim), stored, META);
    // The stored displayName (CIAM's Nickname) outranks a name built from givenName/familyName.
    expect(
      await changesOf(
        planPatch(
          'scim',
          'u-1',
          patchBody({
            op: 'replace',
            path: 'name',
            value: { givenName: 'Jane', familyName: 'Doe' },
          }),
        ),
      ),
    ).toEqual({});
    expect(
      await changesOf(
        planPut('scim', 'u-1', {
          userName: 'alice',
          name: { givenName: 'Jane', familyName: 'Doe' },
        }),
      ),
    ).toEqual({ Nickname: 'Jane Doe' });
  });

  it('never blanks what the target leaves out', async () => {
    const plan = planPut('scim', 'u-1', { userName: 'alice', emails: [] });
    expect(await planChanges(connection, mapper, targetOf(plan, storedScim), stored, META)).toEqual(
      {},
    );
  });

  it('hands the CIAM user id to the mapping with the change', async () => {
    const byId = compileMapping({
      ...connection,
      mapping: { fields: { Nickname: 'subject.ciamUserId' } },
    });
    expect(await planChanges(connection, byId, { userName: 'alice' }, stored, META)).toEqual({
      Nickname: 'u-1',
    });
  });

  it('refuses a wrongly typed PATCH or PUT before anything is read', () => {
    expect(
      thrown(() =>
        planPatch('scim', 'u-1', patchBody({ op: 'replace', path: 'active', value: 'maybe' })),
      ),
    ).toMatchObject({ code: 'SCIM_INVALID_VALUE' });
    expect(
      thrown(() =>
        planPatch('scim', 'u-1', patchBody({ op: 'replace', path: 'userName', value: 7 })),
      ),
    ).toMatchObject({ code: 'SCIM_INVALID_VALUE' });
    expect(thrown(() => planPatch('scim', 'u-1', { Operations: [] }))).toMatchObject({
      code: 'SCIM_INVALID_SYNTAX',
    });
    expect(thrown(() => planPut('scim', 'u-1', { userName: 'a', emails: 'x' }))).toMatchObject({
      code: 'SCIM_INVALID_VALUE',
    });
  });

  it('leaves a value filter only the stored user can answer to the target: applied, or noTarget', () => {
    const plan = planPatch(
      'scim',
      'u-1',
      patchBody({ op: 'replace', path: 'emails[type ne "work"].value', value: 'x@example.com' }),
    );
    expect(thrown(() => targetOf(plan, storedScim))).toMatchObject({ code: 'SCIM_NO_TARGET' });
    const home = () => ({ ...storedScim(), emails: [{ value: 'h@example.com', type: 'home' }] });
    expect(targetOf(plan, home).emails).toEqual([{ value: 'x@example.com', type: 'home' }]);
  });

  it('refuses to change the id: SCIM_MUTABILITY, after the body’s own checks', () => {
    expect(thrown(() => planPut('scim', 'u-1', { id: 'u-2', userName: 'a' }))).toMatchObject({
      code: 'SCIM_MUTABILITY',
    });
    expect(thrown(() => planPut('scim', 'u-1', { id: 'u-2', active: 'perhaps' }))).toMatchObject({
      code: 'SCIM_INVALID_VALUE',
    });
    expect(
      thrown(() =>
        planPatch('scim', 'u-1', patchBody({ op: 'replace', path: 'id', value: 'u-2' })),
      ),
    ).toMatchObject({ code: 'SCIM_MUTABILITY' });
    expect(targetOf(planPut('scim', 'u-1', { id: 'u-1', userName: 'a' }), storedScim).id).toBe(
      'u-1',
    );
  });
});

describe('scim/plan UpdateUser', () => {
  it('sends nothing when nothing changed or the user has no id', () => {
    expect(updateRequestOf('local-store', stored, {})).toBeUndefined();
    expect(updateRequestOf('local-store', { UserName: 'x' }, { Email: 'a@x.io' })).toBeUndefined();
  });

  it('sends the changed fields for the user, custom attributes laid over the stored ones', () => {
    expect(
      updateRequestOf('local-store', stored, {
        Email: 'new@example.com',
        CustomizationAttributes: [{ Name: 'dept', Value: 'Sales' }],
      }),
    ).toEqual({
      UserStoreId: 'local-store',
      UserId: 'u-1',
      Email: 'new@example.com',
      CustomizationAttributes: [
        { Name: 'site', Value: 'SG' },
        { Name: 'dept', Value: 'Sales' },
      ],
    });
  });

  it('takes CIAM’s answer as the stored user, or lays the plain fields sent over the old one', () => {
    const changed = {
      Email: 'new@example.com',
      UserGroup: ['g1'],
      CustomizationAttributes: [{ Name: 'a', Value: '1' }],
    };
    const answered = { ...stored, Email: 'new@example.com', LastModifiedDate: 42 };
    expect(storedAfterUpdate(stored, changed, answered)).toEqual(answered);
    expect(storedAfterUpdate(stored, changed, null)).toEqual({
      ...stored,
      Email: 'new@example.com',
    });
    expect(storedAfterUpdate(stored, changed, { UserId: 'someone-else' })).toEqual({
      ...stored,
      Email: 'new@example.com',
    });
  });

  it('names what the resolver may have cached the user under', () => {
    expect(lookupSubjectOf(connection, stored)).toEqual({
      externalId: 'ext-alice',
      email: 'alice@example.com',
      phone: '+6581234567',
    });
    expect(lookupSubjectOf({ resolve: { by: 'email' } }, { UserId: 'u' })).toEqual({});
  });
});

describe('scim/plan statusChange (deactivate policy)', () => {
  it.each([
    ['freeze', 'NORMAL', false, 'FREEZE'],
    ['freeze', undefined, false, 'FREEZE'],
    ['freeze', 'FREEZE', false, undefined],
    ['freeze', 'LOCK', false, undefined],
    ['freeze', 'FREEZE', true, 'NORMAL'],
    ['freeze', 'NORMAL', true, undefined],
    ['freeze', 'LOCK', true, undefined],
    ['freeze', 'NORMAL', 'false', undefined],
    ['freeze', 'NORMAL', undefined, undefined],
    ['ignore', 'NORMAL', false, undefined],
    ['ignore', 'FREEZE', true, undefined],
    [undefined, 'NORMAL', false, undefined],
  ] as const)('%s: status %s, active %s → %s', (deactivate, status, active, expected) => {
    expect(statusChange(deactivate, status, active)).toBe(expected);
  });
});

describe('scim/plan create', () => {
  it('checks the userName, then the email, for uniqueness', () => {
    expect(
      uniquenessProbes({ UserStoreId: 's', UserName: 'dave', Email: 'd@x.io', Nickname: 'D' }),
    ).toEqual([
      { attribute: 'userName', query: { by: 'userName', value: 'dave' } },
      { attribute: 'emails', query: { by: 'email', value: 'd@x.io' } },
    ]);
    expect(uniquenessProbes({ UserStoreId: 's', Nickname: 'D' })).toEqual([]);
  });

  it('names the SCIM attributes and CIAM fields a create lacks, none when it has them all', () => {
    const full = {
      UserStoreId: 's',
      UserName: 'dave',
      Email: 'd@x.io',
      PhoneNumber: '+6581234599',
    };
    expect(missingForCreate(full)).toEqual([]);
    expect(() => assertCreatable(full)).not.toThrow();
    const { PhoneNumber: _phone, ...noPhone } = full;
    expect(missingForCreate(noPhone)).toEqual([
      { field: 'PhoneNumber', attribute: 'phoneNumbers' },
    ]);
    expect(thrown(() => assertCreatable(noPhone))).toMatchObject({
      code: 'SCIM_INVALID_VALUE',
      statusCode: 400,
      message: 'Creating a CIAM user needs phoneNumbers (CIAM PhoneNumber); the request has none',
    });
    expect(
      thrown(() => assertCreatable({ UserStoreId: 's', UserName: 'dave', Email: ' ' })),
    ).toMatchObject({
      message:
        'Creating a CIAM user needs emails, phoneNumbers (CIAM Email, PhoneNumber); the request has none',
    });
  });

  it('fills the names CreateUser requires with empty strings and adds the password', () => {
    expect(
      createRequestOf({ UserStoreId: 's', UserName: 'dave', IndexedAttribute1: 'ext-d' }, 'pw'),
    ).toEqual({
      UserStoreId: 's',
      UserName: 'dave',
      Email: '',
      PhoneNumber: '',
      IndexedAttribute1: 'ext-d',
      Password: 'pw',
    });
  });
});

describe('scim/plan clockedChanges (field clocks)', () => {
  const guard: StaleGuard = {
    attribute: 'adapter_field_clocks',
    type: 'STRING',
    connection: connectionTag('scim'),
    authorityOf: () => undefined,
    legacy: [],
  };
  const draft = {
    UserStoreId: 'local-store',
    Email: 'alice@new.example',
    PhoneNumber: '+6580000000',
    Nickname: 'Old Nick',
  };
  const changed = { Email: 'alice@new.example', PhoneNumber: '+6580000000' };
  const clerkLater = {
    at: Date.parse(META.occurredAt) + 1000,
    connection: connectionTag('clerk'),
    event: eventTag('msg_late'),
  };

  it('writes only the changed fields where the request is newer, with every carried field clocked', () => {
    const user: CiamUser = {
      ...stored,
      CustomAttributes: [
        {
          Name: 'adapter_field_clocks',
          Value: encodeClocks(new Map([['PhoneNumber', clerkLater]])),
        },
      ],
    };
    const out = clockedChanges(guard, user, draft, changed, META);
    // The phone was set by a change dated after this request: not written.
    expect(out).toMatchObject({ Email: 'alice@new.example' });
    expect(out).not.toHaveProperty('PhoneNumber');
    const written = decodeClocks(out.CustomizationAttributes?.at(-1)?.Value);
    expect(written.get('PhoneNumber')).toEqual(clerkLater);
    // Nickname is unchanged but carried: its clock moves on with the write.
    expect(written.get('Nickname')?.connection).toBe(connectionTag('scim'));
    expect(written.get('Email')?.at).toBe(Date.parse(META.occurredAt));
  });

  it('writes nothing, not even clocks, when no value may change', () => {
    const user: CiamUser = {
      ...stored,
      CustomAttributes: [
        {
          Name: 'adapter_field_clocks',
          Value: encodeClocks(
            new Map([
              ['PhoneNumber', clerkLater],
              ['Email', clerkLater],
            ]),
          ),
        },
      ],
    };
    expect(clockedChanges(guard, user, draft, changed, META)).toEqual({});
  });

  it('keeps a connection off a field its user store does not let it set', () => {
    const ranked = {
      ...guard,
      authorityOf: (field: string) => (field === 'Email' ? [connectionTag('clerk')] : undefined),
    };
    const out = clockedChanges(ranked, stored, draft, changed, META);
    expect(out).not.toHaveProperty('Email');
    expect(out).toHaveProperty('PhoneNumber', '+6580000000');
  });
});

describe('scim/plan name parts', () => {
  const guard: StaleGuard = {
    attribute: 'adapter_field_clocks',
    type: 'STRING',
    connection: connectionTag('scim'),
    authorityOf: () => undefined,
    legacy: [],
  };
  const named: CiamUser = {
    ...stored,
    CustomAttributes: [
      { Name: 'site', Value: 'SG' },
      { Name: 'given_name', Value: 'Alice' },
      { Name: 'family_name', Value: 'Liddell' },
    ],
  };

  it('writes only the part that changed, and nothing when the parts sent are as stored', async () => {
    const put = (name: Record<string, unknown>) =>
      planDraft(
        connection,
        mapper,
        { userName: 'alice', displayName: 'Old Nick', name },
        named,
        META,
        DEFAULT_NAME_ATTRIBUTES,
      );
    expect((await put({ givenName: 'Alicia', familyName: 'Liddell' })).changed).toEqual({
      CustomizationAttributes: [{ Name: 'given_name', Value: 'Alicia', Type: 'STRING' }],
    });
    expect((await put({ givenName: 'Alice', familyName: 'Liddell' })).changed).toEqual({});
    // An absent part is never blanked.
    expect((await put({ givenName: 'Alice' })).changed).toEqual({});
  });

  it('leaves the other custom attributes in the UpdateUser request', async () => {
    const { changed } = await planDraft(
      connection,
      mapper,
      { userName: 'alice', name: { familyName: 'Hargreaves' } },
      named,
      META,
      DEFAULT_NAME_ATTRIBUTES,
    );
    expect(updateRequestOf('local-store', named, changed)?.CustomizationAttributes).toEqual([
      { Name: 'site', Value: 'SG' },
      { Name: 'given_name', Value: 'Alice' },
      { Name: 'family_name', Value: 'Hargreaves', Type: 'STRING' },
    ]);
  });

  it('goes through the field clocks like any custom attribute: custom:<attribute>', async () => {
    const { draft, changed } = await planDraft(
      connection,
      mapper,
      { userName: 'alice', name: { givenName: 'Alicia', familyName: 'Hargreaves' } },
      named,
      META,
      DEFAULT_NAME_ATTRIBUTES,
    );
    const ranked = {
      ...guard,
      authorityOf: (field: string) =>
        field === customField('family_name') ? [connectionTag('clerk')] : undefined,
    };
    const out = clockedChanges(ranked, named, draft, changed, META);
    expect(out.CustomizationAttributes?.map((item) => item.Name)).toEqual([
      'given_name',
      'adapter_field_clocks',
    ]);
    const written = decodeClocks(out.CustomizationAttributes?.at(-1)?.Value);
    expect(written.get(customField('given_name'))?.connection).toBe(connectionTag('scim'));
  });
});
