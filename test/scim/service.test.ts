// The SCIM service with its real parts: the CIAM client over TC3 against the emulator, the user
// resolver, the keyed lock and the compiled mapping. Each case checks the answer, what CIAM
// now holds, and which CIAM calls were made (inside the user's lock or not).
import { beforeEach, describe, expect, it } from 'vitest';
import { loadSeed } from '../../emulator/server.ts';
import { createKeyedLock, type KeyedLock } from '../../lib/ciam/apply.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { createUserResolver } from '../../lib/ciam/resolve.ts';
import type { Connection, ResolveStrategy } from '../../lib/config/types.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import type { ScimOptions } from '../../lib/scim/options.ts';
import {
  createScimService,
  LIST_RESPONSE_SCHEMA,
  type ScimConnection,
} from '../../lib/scim/service.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;
const BASE = 'https://scim.example/scim/v2/scim';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const START = Date.UTC(2025, 2, 1);

// One clock for the emulator (LastModifiedDate, signature window) and the service, moved by hand.
let clockMs = START;
const now = () => clockMs;

// A locked user: CIAM set that status for its own reasons; SCIM must never lift it.
const seed = loadSeed('emulator/seed.json');
seed.userStores[0]?.Users?.push({
  UserId: 'demo-user-4',
  UserName: 'dora',
  Email: 'dora@example.com',
  PhoneNumber: '+6581234569',
  IndexedAttribute1: 'ext-dora',
  Status: 'LOCK',
  CreatedDate: Date.UTC(2024, 0, 1),
  LastModifiedDate: Date.UTC(2024, 0, 1),
});

const emulator = useEmulator({ seed, now, rateLimit: 0 }, { resetBeforeEach: true });
beforeEach(() => {
  clockMs = START;
});

const scimConnection = (
  options: ScimOptions = {},
  resolve: ResolveStrategy = { by: 'indexedAttribute', index: 1 },
): ScimConnection => {
  const connection: Connection = {
    id: 'scim',
    source: 'scim',
    userStoreId: STORE,
    secrets: { signing: [] },
    resolve,
    mapping: {},
    delivery: 'sync',
    options: { ...options },
  };
  return { connection, options, mapper: compileMapping(connection) };
};

const ignore = scimConnection({ deactivate: 'ignore' });
const freeze = scimConnection({ deactivate: 'freeze' });
const creating = scimConnection({ allowCreate: true, deactivate: 'freeze' });

/** A service over the emulator, its lock recording each key and the CIAM calls made under it. */
const setup = () => {
  const ciam = createCiamClient(
    createTencentClient({
      fetch,
      now,
      endpoint: emulator().url,
      credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
      maxAttempts: 1,
    }),
  );
  const lock = createKeyedLock();
  const held: Array<{ key: string; actions: string[] }> = [];
  const recording: KeyedLock = (key, task) =>
    lock(key, async () => {
      const from = emulator().calls.length;
      try {
        return await task();
      } finally {
        held.push({ key, actions: actions().slice(from) });
      }
    });
  const service = createScimService({
    ciam,
    resolver: createUserResolver({ ciam, now }),
    lock: recording,
    now,
  });
  return { service, held };
};

const actions = () => emulator().calls.map((call) => call.action);
const stored = (id: string) => emulator().store.getUser(STORE, id);
const keyOf = (id: string) => `${STORE}\u0000${id}`;
const patchBody = (...operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });

describe('scim/service list', () => {
  it('pages through everyone with one DescribeUser per request', async () => {
    const { service, held } = setup();
    const first = await service.list(ignore, { startIndex: '1', count: '3' }, BASE);
    expect(first).toMatchObject({
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: 4,
      startIndex: 1,
      itemsPerPage: 3,
    });
    const second = await service.list(ignore, { startIndex: '4', count: '3' }, BASE);
    expect(second).toMatchObject({ totalResults: 4, startIndex: 4, itemsPerPage: 1 });
    expect([...first.Resources, ...second.Resources].map((user) => user.id)).toEqual([
      'demo-user-1',
      'demo-user-2',
      'demo-user-3',
      'demo-user-4',
    ]);
    expect(first.Resources[0]?.meta).toMatchObject({ location: `${BASE}/Users/demo-user-1` });
    expect(actions()).toEqual(['DescribeUser', 'DescribeUser']);
    expect(held).toEqual([]);
  });

  it('answers count=0 with the total only, and caps count at the connection’s maxPageSize', async () => {
    const { service } = setup();
    expect(await service.list(ignore, { count: '0' }, BASE)).toMatchObject({
      totalResults: 4,
      itemsPerPage: 0,
      Resources: [],
    });
    const capped = await service.list(scimConnection({ maxPageSize: 2 }), { count: '50' }, BASE);
    expect(capped).toMatchObject({ totalResults: 4, itemsPerPage: 2 });
  });

  it.each([
    ['userName eq "alice"', 'demo-user-1', 'DescribeUser'],
    ['externalId eq "ext-bob"', 'demo-user-2', 'DescribeUser'],
    ['emails.value eq "CAROL@example.com"', 'demo-user-3', 'ListUserByProperty'],
    ['id eq "demo-user-4"', 'demo-user-4', 'DescribeUserById'],
    ['userName eq "alice" and externalId eq "ext-alice"', 'demo-user-1', 'DescribeUser'],
  ])('finds %s with one lookup', async (filter, id, action) => {
    const { service } = setup();
    const answer = await service.list(ignore, { filter }, BASE);
    expect(answer).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
    expect(answer.Resources[0]).toMatchObject({ id, meta: { location: `${BASE}/Users/${id}` } });
    expect(actions()).toEqual([action]);
  });

  it('finds nobody when another condition fails, the id is unknown, or nothing holds externalId', async () => {
    const { service } = setup();
    for (const filter of [
      'userName eq "alice" and externalId eq "ext-bob"',
      'id eq "nobody"',
      'userName eq "nobody"',
    ]) {
      expect(await service.list(ignore, { filter }, BASE)).toMatchObject({
        totalResults: 0,
        Resources: [],
      });
    }
    emulator().reset();
    // Resolving by email, no IndexedAttribute holds externalId: no CIAM user can match.
    const byEmail = scimConnection({}, { by: 'email' });
    expect(await service.list(byEmail, { filter: 'externalId eq "ext-bob"' }, BASE)).toMatchObject({
      totalResults: 0,
    });
    expect(actions()).toEqual([]);
  });

  it('pages the matches of a filter too', async () => {
    const { service } = setup();
    const answer = await service.list(
      ignore,
      { filter: 'userName eq "alice"', startIndex: '2' },
      BASE,
    );
    expect(answer).toMatchObject({ totalResults: 1, startIndex: 2, itemsPerPage: 0 });
  });

  it.each([
    [{ filter: 'userName co "ali"' }, 'SCIM_INVALID_FILTER'],
    [{ filter: '((' }, 'SCIM_INVALID_FILTER'],
    [{ filter: 'displayName eq "Alice"' }, 'SCIM_INVALID_FILTER'],
    [{ startIndex: 'x' }, 'SCIM_INVALID_VALUE'],
    [{ filter: 'userName eq "a"', count: '1.5' }, 'SCIM_INVALID_VALUE'],
  ])('refuses %o with %s and calls no CIAM', async (query, code) => {
    const { service } = setup();
    await expect(service.list(ignore, query, BASE)).rejects.toMatchObject({
      code,
      statusCode: 400,
    });
    expect(actions()).toEqual([]);
  });
});

describe('scim/service get', () => {
  it('renders the stored CIAM user with its dates and location, without the lock', async () => {
    const { service, held } = setup();
    expect(await service.get(ignore, 'demo-user-1', BASE)).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: 'demo-user-1',
      externalId: 'ext-alice',
      userName: 'alice',
      emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+6581234567', type: 'mobile', primary: true }],
      active: true,
      meta: {
        resourceType: 'User',
        created: '2024-01-01T00:00:00.000Z',
        lastModified: '2024-01-01T00:00:00.000Z',
        location: `${BASE}/Users/demo-user-1`,
      },
    });
    expect((await service.get(ignore, 'demo-user-4', BASE)).active).toBe(false);
    expect(held).toEqual([]);
  });

  it('answers USER_NOT_FOUND (404) for an unknown id', async () => {
    const { service } = setup();
    await expect(service.get(ignore, 'nobody', BASE)).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
      statusCode: 404,
    });
  });

  it('passes CIAM’s failure on with its code', async () => {
    const { service } = setup();
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['DescribeUserById'] });
    await expect(service.get(ignore, 'demo-user-1', BASE)).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      statusCode: 503,
    });
  });
});

describe('scim/service PATCH', () => {
  it('reads and writes under the user’s lock: one UpdateUser with the changed fields only', async () => {
    const { service, held } = setup();
    clockMs = START + 60_000;
    const answer = await service.patch(
      ignore,
      'demo-user-1',
      patchBody(
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'alice.w@example.com' },
        { op: 'replace', path: 'userName', value: 'alice' },
      ),
      BASE,
    );
    expect(answer).toMatchObject({
      id: 'demo-user-1',
      emails: [{ value: 'alice.w@example.com' }],
      // CIAM's LastModifiedDate, the user's version, moves with the write.
      meta: { lastModified: new Date(START + 60_000).toISOString() },
    });
    expect(stored('demo-user-1')).toMatchObject({
      Email: 'alice.w@example.com',
      UserName: 'alice',
      PhoneNumber: '+6581234567',
      IndexedAttribute1: 'ext-alice',
    });
    expect(held).toEqual([
      { key: keyOf('demo-user-1'), actions: ['DescribeUserById', 'UpdateUser'] },
    ]);
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUser']);
  });

  it('writes nothing, and keeps the version, when nothing changes', async () => {
    const { service } = setup();
    clockMs = START + 60_000;
    const answer = await service.patch(
      ignore,
      'demo-user-2',
      patchBody({ op: 'add', path: 'emails[type eq "work"].value', value: 'bob@example.com' }),
      BASE,
    );
    expect(answer.meta).toMatchObject({ lastModified: '2024-01-01T00:00:00.000Z' });
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('serialises concurrent writes to one user: the second reads what the first wrote', async () => {
    const { service } = setup();
    const [first, second] = await Promise.all([
      service.patch(
        ignore,
        'demo-user-3',
        patchBody({ op: 'replace', path: 'displayName', value: 'Caro' }),
        BASE,
      ),
      service.patch(
        ignore,
        'demo-user-3',
        patchBody({ op: 'replace', path: 'externalId', value: 'ext-c2' }),
        BASE,
      ),
    ]);
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUser', 'DescribeUserById', 'UpdateUser']);
    expect(first).toMatchObject({ displayName: 'Caro', externalId: 'ext-carol' });
    expect(second).toMatchObject({ displayName: 'Caro', externalId: 'ext-c2' });
  });

  it('answers SCIM_NO_TARGET when only the stored user could satisfy a filter, and writes nothing', async () => {
    const { service } = setup();
    await expect(
      service.patch(
        ignore,
        'demo-user-1',
        patchBody({ op: 'replace', path: 'emails[type ne "work"].value', value: 'x@example.com' }),
        BASE,
      ),
    ).rejects.toMatchObject({ code: 'SCIM_NO_TARGET', statusCode: 400 });
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it.each([
    [patchBody({ op: 'replace', path: 'active', value: 'maybe' }), 'SCIM_INVALID_VALUE'],
    [patchBody({ op: 'move', path: 'userName', value: 'x' }), 'SCIM_INVALID_SYNTAX'],
    [patchBody({ op: 'add', path: 'emails..value', value: 'x' }), 'SCIM_INVALID_PATH'],
    [patchBody({ op: 'replace', path: 'id', value: 'other' }), 'SCIM_MUTABILITY'],
    [[], 'SCIM_INVALID_SYNTAX'],
  ])('refuses %o with %s before any CIAM call', async (body, code) => {
    const { service, held } = setup();
    await expect(service.patch(ignore, 'demo-user-1', body, BASE)).rejects.toMatchObject({
      code,
      statusCode: 400,
    });
    expect(actions()).toEqual([]);
    expect(held).toEqual([]);
  });

  it('answers USER_NOT_FOUND for an unknown user and UPSTREAM_CONFLICT for a taken email', async () => {
    const { service } = setup();
    await expect(
      service.patch(
        ignore,
        'nobody',
        patchBody({ op: 'replace', path: 'displayName', value: 'x' }),
        BASE,
      ),
    ).rejects.toMatchObject({ code: 'USER_NOT_FOUND', statusCode: 404 });
    await expect(
      service.patch(
        ignore,
        'demo-user-1',
        patchBody({
          op: 'replace',
          path: 'emails[type eq "work"].value',
          value: 'bob@example.com',
        }),
        BASE,
      ),
    ).rejects.toMatchObject({ code: 'UPSTREAM_CONFLICT', statusCode: 409 });
    expect(stored('demo-user-1')?.Email).toBe('alice@example.com');
  });
});

describe('scim/service PUT', () => {
  it('replaces the mapped fields and leaves what the body omits as CIAM holds it', async () => {
    const { service, held } = setup();
    const answer = await service.put(
      ignore,
      'demo-user-1',
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id: 'demo-user-1',
        userName: 'alice',
        name: { givenName: 'Alice', familyName: 'Liddell' },
        emails: [{ value: 'alice@wonderland.example', type: 'work', primary: true }],
        active: 'True',
      },
      BASE,
    );
    expect(answer).toMatchObject({ id: 'demo-user-1', displayName: 'Alice Liddell' });
    expect(stored('demo-user-1')).toMatchObject({
      Email: 'alice@wonderland.example',
      Nickname: 'Alice Liddell',
      PhoneNumber: '+6581234567',
      IndexedAttribute1: 'ext-alice',
    });
    expect(held).toEqual([
      { key: keyOf('demo-user-1'), actions: ['DescribeUserById', 'UpdateUser'] },
    ]);
  });

  it('plans from the body where PATCH plans from the stored user', async () => {
    const { service } = setup();
    const name = { givenName: 'Jane', familyName: 'Doe' };
    await service.patch(
      ignore,
      'demo-user-2',
      patchBody({ op: 'replace', path: 'displayName', value: 'Bobby' }),
      BASE,
    );
    // The stored displayName outranks the name for Nickname: PATCHing the name changes nothing.
    await service.patch(
      ignore,
      'demo-user-2',
      patchBody({ op: 'replace', path: 'name', value: name }),
      BASE,
    );
    expect(stored('demo-user-2')?.Nickname).toBe('Bobby');
    // A PUT without displayName asks for the name as Nickname.
    await service.put(ignore, 'demo-user-2', { userName: 'bob', name }, BASE);
    expect(stored('demo-user-2')?.Nickname).toBe('Jane Doe');
  });

  it.each([
    [{ id: 'demo-user-2', userName: 'alice' }, 'SCIM_MUTABILITY'],
    [{ schemas: ['urn:other'], userName: 'alice' }, 'SCIM_INVALID_SYNTAX'],
    [{ userName: 'alice', emails: 'x' }, 'SCIM_INVALID_VALUE'],
    [[1], 'SCIM_INVALID_SYNTAX'],
  ])('refuses %o with %s before any CIAM call', async (body, code) => {
    const { service } = setup();
    await expect(service.put(ignore, 'demo-user-1', body, BASE)).rejects.toMatchObject({ code });
    expect(actions()).toEqual([]);
  });

  it('answers USER_NOT_FOUND for an unknown user', async () => {
    const { service } = setup();
    await expect(service.put(ignore, 'nobody', { userName: 'x' }, BASE)).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
    });
    expect(actions()).toEqual(['DescribeUserById']);
  });
});

describe('scim/service POST', () => {
  const dave = (overrides: Record<string, unknown> = {}) => ({
    userName: 'dave',
    externalId: 'ext-dave',
    emails: [{ value: 'dave@example.com', type: 'work' }],
    phoneNumbers: [{ value: '+6581234599', type: 'mobile' }],
    displayName: 'Dave',
    ...overrides,
  });

  it('refuses to create without allowCreate: SCIM_CREATE_NOT_ALLOWED (403), no CreateUser', async () => {
    const { service } = setup();
    await expect(service.create(ignore, dave(), BASE)).rejects.toMatchObject({
      code: 'SCIM_CREATE_NOT_ALLOWED',
      statusCode: 403,
    });
    expect(actions()).not.toContain('CreateUser');
    expect(emulator().store.listUsers(STORE)).toHaveLength(4);
  });

  it('creates with allowCreate: CreateUser with the mapped fields and externalId, outside any lock', async () => {
    const { service, held } = setup();
    const answer = await service.create(creating, dave(), BASE);
    const id = String(answer.id);
    expect(answer).toMatchObject({
      userName: 'dave',
      externalId: 'ext-dave',
      displayName: 'Dave',
      active: true,
      meta: { created: new Date(START).toISOString(), location: `${BASE}/Users/${id}` },
    });
    expect(stored(id)).toMatchObject({
      UserName: 'dave',
      Email: 'dave@example.com',
      PhoneNumber: '+6581234599',
      IndexedAttribute1: 'ext-dave',
      Nickname: 'Dave',
      Status: 'NORMAL',
    });
    expect(actions().at(-1)).toBe('CreateUser');
    expect(held).toEqual([]);
    // Found afterwards by the filter Entra and Okta use before provisioning.
    const found = await service.list(creating, { filter: 'externalId eq "ext-dave"' }, BASE);
    expect(found.Resources.map((user) => user.id)).toEqual([id]);
  });

  it('creates the user frozen when POSTed inactive under deactivate: freeze', async () => {
    const { service } = setup();
    const answer = await service.create(creating, dave({ active: 'False' }), BASE);
    expect(answer.active).toBe(false);
    expect(stored(String(answer.id))?.Status).toBe('FREEZE');
    expect(actions().slice(-2)).toEqual(['CreateUser', 'UpdateUserStatus']);
  });

  it('links to the user the connection resolves, updating it under its lock; a re-POST writes nothing', async () => {
    const { service, held } = setup();
    const body = dave({
      userName: 'alice',
      externalId: 'ext-alice',
      emails: [{ value: 'alice@example.com', type: 'work' }],
      phoneNumbers: [],
    });
    for (const round of [1, 2]) {
      const answer = await service.create(ignore, body, BASE);
      expect(answer).toMatchObject({ id: 'demo-user-1', displayName: 'Dave' });
      expect(held.at(-1)).toEqual({
        key: keyOf('demo-user-1'),
        actions: round === 1 ? ['DescribeUserById', 'UpdateUser'] : ['DescribeUserById'],
      });
    }
    expect(stored('demo-user-1')?.Nickname).toBe('Dave');
    expect(actions()).not.toContain('CreateUser');
  });

  it('forgets the cached link once the externalId it was found by changes', async () => {
    const { service } = setup();
    const body = dave({ userName: 'alice', externalId: 'ext-alice', emails: [], phoneNumbers: [] });
    expect((await service.create(ignore, body, BASE)).id).toBe('demo-user-1');
    await service.patch(
      ignore,
      'demo-user-1',
      patchBody({ op: 'replace', path: 'externalId', value: 'ext-alice-2' }),
      BASE,
    );
    // Linked no more, so it would create: everything CreateUser needs, and a taken userName.
    const again = { ...body, emails: dave().emails, phoneNumbers: dave().phoneNumbers };
    await expect(service.create(creating, again, BASE)).rejects.toMatchObject({
      code: 'SCIM_UNIQUENESS',
    });
  });

  it.each([
    [{ userName: 'bob' }, 'userName already taken by another user'],
    [{ emails: [{ value: 'BOB@example.com' }] }, 'emails already taken by another user'],
    [
      { userName: 'carol', emails: [{ value: 'carol@example.com' }] },
      'userName and emails already taken by another user',
    ],
  ])(
    'answers SCIM_UNIQUENESS (409) when no user links but %o is taken',
    async (overrides, message) => {
      const { service } = setup();
      await expect(service.create(creating, dave(overrides), BASE)).rejects.toMatchObject({
        code: 'SCIM_UNIQUENESS',
        statusCode: 409,
        message,
      });
      expect(actions()).not.toContain('CreateUser');
      expect(actions()).not.toContain('UpdateUser');
    },
  );

  it.each([
    [dave({ userName: undefined }), 'SCIM_INVALID_VALUE'],
    [dave({ userName: ' ' }), 'SCIM_INVALID_VALUE'],
    [dave({ emails: [{ value: 1 }] }), 'SCIM_INVALID_VALUE'],
    ['nope', 'SCIM_INVALID_SYNTAX'],
  ])('refuses %o with %s before any CIAM call', async (body, code) => {
    const { service } = setup();
    await expect(service.create(creating, body, BASE)).rejects.toMatchObject({ code });
    expect(actions()).toEqual([]);
  });
});

describe('scim/service name parts and what CreateUser requires', () => {
  const jane = (overrides: Record<string, unknown> = {}) => ({
    userName: 'jane',
    name: { givenName: 'Jane', familyName: 'Doe', middleName: '' },
    emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+6581234598', type: 'mobile' }],
    active: true,
    ...overrides,
  });
  const custom = (id: string) =>
    Object.fromEntries((stored(id)?.CustomAttributes ?? []).map((item) => [item.Name, item.Value]));

  it('keeps the name parts a POST creates with, and renders them on every read', async () => {
    const { service } = setup();
    const created = await service.create(creating, jane(), BASE);
    const id = String(created.id);
    expect(created.name).toEqual({ givenName: 'Jane', familyName: 'Doe' });
    expect(custom(id)).toEqual({ given_name: 'Jane', family_name: 'Doe' });
    expect((await service.get(creating, id, BASE)).name).toEqual(created.name);
    const listed = await service.list(creating, { filter: 'userName eq "jane"' }, BASE);
    expect(listed.Resources[0]?.name).toEqual(created.name);
  });

  it('changes a part by PUT or PATCH and never blanks one the request leaves out', async () => {
    const { service } = setup();
    const id = String((await service.create(creating, jane(), BASE)).id);
    const put = await service.put(creating, id, jane({ name: { givenName: 'Janet' } }), BASE);
    expect(put.name).toEqual({ givenName: 'Janet', familyName: 'Doe' });
    // The PUT omits familyName: CIAM keeps it.
    expect(custom(id)).toEqual({ given_name: 'Janet', family_name: 'Doe' });
    const patched = await service.patch(
      creating,
      id,
      patchBody({ op: 'replace', value: { 'name.familyName': 'Roe', 'name.formatted': 'J. Roe' } }),
      BASE,
    );
    expect(patched.name).toEqual({ formatted: 'J. Roe', familyName: 'Roe', givenName: 'Janet' });
    expect(custom(id)).toEqual({
      given_name: 'Janet',
      family_name: 'Roe',
      formatted_name: 'J. Roe',
    });
  });

  it('keeps a part in the attribute the connection names, or nowhere', async () => {
    const { service } = setup();
    const own = scimConnection({
      allowCreate: true,
      givenNameAttribute: 'first_name',
      familyNameAttribute: false,
    });
    const created = await service.create(own, jane(), BASE);
    expect(custom(String(created.id))).toEqual({ first_name: 'Jane' });
    expect(created.name).toEqual({ givenName: 'Jane' });
  });

  it.each([
    ['phoneNumbers', { phoneNumbers: [] }, 'phoneNumbers (CIAM PhoneNumber)'],
    ['emails', { emails: undefined }, 'emails (CIAM Email)'],
    [
      'both',
      { emails: [], phoneNumbers: [{ value: ' ', type: 'mobile' }] },
      'emails, phoneNumbers (CIAM Email, PhoneNumber)',
    ],
  ])(
    'refuses a create without %s with invalidValue, before any CIAM call',
    async (_what, overrides, named) => {
      const { service } = setup();
      await expect(service.create(creating, jane(overrides), BASE)).rejects.toMatchObject({
        code: 'SCIM_INVALID_VALUE',
        statusCode: 400,
        message: expect.stringContaining(named),
      });
      expect(actions()).toEqual([]);
    },
  );

  it('looks for a user to link first when the POST names one, and creates nothing without a phone', async () => {
    const { service } = setup();
    const body = jane({ externalId: 'ext-nobody', phoneNumbers: [] });
    await expect(service.create(creating, body, BASE)).rejects.toMatchObject({
      code: 'SCIM_INVALID_VALUE',
    });
    // The connection's resolution only: no uniqueness lookups, no CreateUser.
    expect(actions()).toEqual(['DescribeUser']);
    // A POST that links needs no phone: CreateUser's requirements are not a link's.
    const linked = await service.create(
      creating,
      jane({ userName: 'alice', externalId: 'ext-alice', emails: [], phoneNumbers: [] }),
      BASE,
    );
    expect(linked).toMatchObject({ id: 'demo-user-1', name: { givenName: 'Jane' } });
  });

  it('answers 403 rather than asking for a phone on a connection that never creates', async () => {
    const { service } = setup();
    await expect(service.create(ignore, jane({ phoneNumbers: [] }), BASE)).rejects.toMatchObject({
      code: 'SCIM_CREATE_NOT_ALLOWED',
    });
  });
});

describe('scim/service deactivate', () => {
  const setActive = (
    service: ReturnType<typeof setup>['service'],
    scim: ScimConnection,
    id: string,
    value: unknown,
  ) => service.patch(scim, id, patchBody({ op: 'replace', path: 'active', value }), BASE);

  it('ignore: active false and DELETE leave the CIAM user as it is', async () => {
    const { service, held } = setup();
    const before = stored('demo-user-1');
    expect((await setActive(service, ignore, 'demo-user-1', false)).active).toBe(true);
    await service.remove(ignore, 'demo-user-1');
    expect(stored('demo-user-1')).toEqual(before);
    expect(actions()).toEqual(['DescribeUserById', 'DescribeUserById']);
    expect(held.map((entry) => entry.key)).toEqual([keyOf('demo-user-1'), keyOf('demo-user-1')]);
  });

  it('freeze: active false freezes once, active true lifts it', async () => {
    const { service } = setup();
    expect((await setActive(service, freeze, 'demo-user-1', 'False')).active).toBe(false);
    expect(stored('demo-user-1')?.Status).toBe('FREEZE');
    expect((await setActive(service, freeze, 'demo-user-1', false)).active).toBe(false);
    expect((await setActive(service, freeze, 'demo-user-1', true)).active).toBe(true);
    expect(stored('demo-user-1')?.Status).toBe('NORMAL');
    expect(actions().filter((action) => action === 'UpdateUserStatus')).toHaveLength(2);
    // Entra's periodic active=true on an active user costs nothing.
    emulator().reset();
    await setActive(service, freeze, 'demo-user-2', 'True');
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('freeze: never lifts or overrides CIAM’s own LOCK', async () => {
    const { service } = setup();
    expect((await setActive(service, freeze, 'demo-user-4', true)).active).toBe(false);
    expect((await setActive(service, freeze, 'demo-user-4', false)).active).toBe(false);
    await service.remove(freeze, 'demo-user-4');
    expect(stored('demo-user-4')?.Status).toBe('LOCK');
    expect(actions()).not.toContain('UpdateUserStatus');
  });

  it('freeze: DELETE and a PUT with active false freeze, under the user’s lock', async () => {
    const { service, held } = setup();
    await service.remove(freeze, 'demo-user-3');
    expect(stored('demo-user-3')?.Status).toBe('FREEZE');
    expect(held).toEqual([
      { key: keyOf('demo-user-3'), actions: ['DescribeUserById', 'UpdateUserStatus'] },
    ]);
    const put = await service.put(freeze, 'demo-user-2', { userName: 'bob', active: false }, BASE);
    expect(put.active).toBe(false);
    expect(stored('demo-user-2')).toMatchObject({ Status: 'FREEZE', Email: 'bob@example.com' });
  });

  it('answers USER_NOT_FOUND for DELETE of an unknown user', async () => {
    const { service } = setup();
    await expect(service.remove(freeze, 'nobody')).rejects.toMatchObject({
      code: 'USER_NOT_FOUND',
      statusCode: 404,
    });
    expect(actions()).toEqual(['DescribeUserById']);
  });
});
