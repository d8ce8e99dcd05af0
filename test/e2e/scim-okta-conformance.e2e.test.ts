// Okta's published SCIM 2.0 test plans for Users, replayed over real HTTP against the local stack
// (the SCIM function behind the local API Gateway) and the CIAM emulator, one request per step and
// in Okta's order, each step asserting what Okta asserts, plus what CIAM then holds.
//
// - "SCIM 2.0 SPEC Test" (the Runscope/BlazeMeter suite Okta publishes for SCIM servers): the
//   optional discovery steps, then the required Users steps. Where its revisions differ (the
//   userName case step: a bare value answered 400 in the older file, `userName eq` answered 200 in
//   the current one; a wrong token answered 401 and a second unknown id only in the current one),
//   both are run. Its timings (600 ms per request) are left out: a shared test machine is no
//   measure of them.
// - "SCIM 2.0 CRUD Test": it needs a real Okta org; the SCIM requests it causes are replayed here
//   (create with an unsolicited password, lookup, read, full PUT, PATCH, deactivate, reactivate).
//
// Deviation from the SPEC test, on purpose: its create carries no phone number, and CIAM will not
// create a user without one (docs/scim.md), so the create here sends one. The SPEC test's optional
// `GET /Groups` step (the older file wants at least one group) is answered by the seeded CIAM
// groups; the CRUD test's group push is replayed on a seeded group (Okta cannot create one here:
// CIAM groups are made in the console).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const TOKEN = 'demo-scim-token';
const CONNECTION = 'okta';
const STORE = 'local-store';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

// The SPEC test's Initial Script variables, with realistic values (Okta generates random ones).
const InvalidUserEmail = 'abcdefgh@example.com';
const UserIdThatDoesNotExist = '010101001010101011001010101011';
const randomGivenName = 'Runscope300';
const randomFamilyName = 'Hfluaklab151';
const randomEmail = 'Runscope300Hfluaklab151@example.com';
const randomUsername = randomEmail;
const randomUsernameCaps = randomUsername.toUpperCase();
const randomPhone = '+6581230300';

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  contentType: string | null;
  body: Json & { Resources?: Json[]; members?: Json[] };
}

let stack: Stack;

/** A request as Okta's suites send it: `application/scim+json`, the header token. */
const call = async (
  method: string,
  path: string,
  body?: unknown,
  authorization = `Bearer ${TOKEN}`,
): Promise<Answer> => {
  const response = await fetch(`${stack.server.url}/scim/v2/${CONNECTION}${path}`, {
    method,
    headers: {
      authorization,
      accept: 'application/scim+json',
      'user-agent': 'Okta SCIM Client 1.0.0',
      ...(body === undefined ? {} : { 'content-type': 'application/scim+json; charset=utf-8' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text === '' ? {} : JSON.parse(text),
  };
};

const usersWhere = (filter: string, extra = '') =>
  call('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);

/** Runscope's `not_empty`: present, and not an empty string, array or object. */
const expectNotEmpty = (value: unknown, what: string) => {
  expect(value, what).not.toBeUndefined();
  expect(value, what).not.toBeNull();
  if (typeof value === 'string' || Array.isArray(value)) expect(value, what).not.toHaveLength(0);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    expect(Object.keys(value), what).not.toHaveLength(0);
  }
};

/** What every User Okta reads must be: core schema, id, userName, name, active, meta. */
const expectOktaUser = (user: Json | undefined) => {
  expect(user).toBeDefined();
  const u = user as Json & { name?: Json; emails?: Json[]; meta?: Json };
  expect(u.schemas).toContain(CORE_USER);
  expectNotEmpty(u.id, 'id');
  expectNotEmpty(u.userName, 'userName');
  expectNotEmpty(u.name?.givenName, 'name.givenName');
  expectNotEmpty(u.name?.familyName, 'name.familyName');
  expect(typeof u.active, 'active').toBe('boolean');
  expectNotEmpty(u.emails?.[0]?.value, 'emails[0].value');
  expect(u.meta?.resourceType).toBe('User');
  // The adapter's own custom attributes (field clocks, earlier marks) are never SCIM attributes.
  expect(JSON.stringify(u)).not.toMatch(/adapter_|given_name|family_name/);
};

const expectListResponse = (answer: Answer) => {
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('application/scim+json');
  expect(answer.body.schemas).toContain(LIST_RESPONSE);
  for (const field of ['totalResults', 'startIndex', 'itemsPerPage']) {
    expect(Number.isInteger(answer.body[field]), field).toBe(true);
  }
  expect(Array.isArray(answer.body.Resources)).toBe(true);
};

const expectError = (answer: Answer, status: number, scimType?: string) => {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toBe('application/scim+json');
  expect(answer.body.schemas).toContain(ERROR);
  expect(answer.body.status).toBe(String(status));
  expectNotEmpty(answer.body.detail, 'detail');
  if (scimType !== undefined) expect(answer.body.scimType).toBe(scimType);
};

const stored = (id: string) => stack.emulator.store.getUser(STORE, id);
const customOf = (id: string) =>
  Object.fromEntries((stored(id)?.CustomAttributes ?? []).map((item) => [item.Name, item.Value]));

beforeAll(async () => {
  const local = readJson('config/local.json') as { connections: Array<Record<string, unknown>> };
  const scim = local.connections.find((connection) => connection.id === 'scim');
  stack = await startStack({
    config: {
      ...local,
      // Okta sends no externalId: a repeated create finds nothing to link and is 409, as the SPEC
      // test wants. Deactivation freezes, so reactivation is visible in CIAM too.
      connections: [
        ...local.connections,
        { ...scim, id: CONNECTION, options: { allowCreate: true, deactivate: 'freeze' } },
      ],
    },
  });
  // "Create at least one user in your SCIM server before running": the seeded users, with the
  // names an earlier provisioning kept in the custom attributes.
  for (const user of stack.emulator.store.listUsers(STORE)) {
    const userName = String(user.UserName);
    await stack.ciam.updateUser({
      UserStoreId: STORE,
      UserId: String(user.UserId),
      CustomizationAttributes: [
        // alice → Alice
        { Name: 'given_name', Value: userName.replace(/^./, (c) => c.toUpperCase()) },
        { Name: 'family_name', Value: 'Seeded' },
      ],
    });
  }
});
afterAll(async () => stack?.close());

describe('Okta SCIM 2.0 SPEC Test: optional discovery steps', () => {
  it('GET /ServiceProviderConfig: 200, its schema, and every capability it names', async () => {
    const answer = await call('GET', '/ServiceProviderConfig');
    expect(answer.status).toBe(200);
    expect(answer.body.schemas).toContain(
      'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
    );
    const config = answer.body as Json & Record<string, Json & { [k: string]: unknown }>;
    for (const path of [
      'patch.supported',
      'bulk.supported',
      'bulk.maxOperations',
      'bulk.maxPayloadSize',
      'filter.supported',
      'filter.maxResults',
      'changePassword.supported',
      'sort.supported',
      'etag.supported',
    ]) {
      const [section = '', key = ''] = path.split('.');
      expect(config[section]?.[key], path).not.toBeUndefined();
    }
    const schemes = config.authenticationSchemes as unknown as Json[];
    expectNotEmpty(schemes?.[0]?.type, 'authenticationSchemes[0].type');
    expectNotEmpty(schemes?.[0]?.description, 'authenticationSchemes[0].description');
  });

  it.each(['/ServiceProviderConfig', '/ResourceTypes', '/Schemas'])(
    'POST %s (read-only): 405',
    async (path) => {
      expect((await call('POST', path, 'test\r\n\r\n')).status).toBe(405);
    },
  );

  it('GET /ResourceTypes: a ListResponse whose first resource has name, endpoint and schema', async () => {
    const answer = await call('GET', '/ResourceTypes');
    expectListResponse(answer);
    const [first] = answer.body.Resources ?? [];
    for (const key of ['name', 'endpoint', 'schema']) expectNotEmpty(first?.[key], key);
  });

  it('GET /Schemas: a ListResponse whose first resource has id and attributes', async () => {
    const answer = await call('GET', '/Schemas');
    expectListResponse(answer);
    const [first] = answer.body.Resources ?? [];
    expectNotEmpty(first?.id, 'id');
    expectNotEmpty(first?.attributes, 'attributes');
  });
});

describe('Okta SCIM 2.0 SPEC Test: optional Groups step', () => {
  it('GET /Groups: a ListResponse with at least one group, each with id and displayName', async () => {
    const answer = await call('GET', '/Groups?startIndex=1&count=100');
    expectListResponse(answer);
    expect(answer.body.totalResults).toBeGreaterThan(0);
    for (const group of answer.body.Resources ?? []) {
      expect(group.schemas).toContain(GROUP);
      expectNotEmpty(group.id, 'id');
      expectNotEmpty(group.displayName, 'displayName');
    }
  });
});

describe('Okta SCIM 2.0 SPEC Test: required Users steps, in order', () => {
  let ISVUserid = '';
  let idUserOne = '';
  const create = {
    schemas: [CORE_USER],
    userName: randomUsername,
    name: { givenName: randomGivenName, familyName: randomFamilyName },
    emails: [{ primary: true, value: randomEmail, type: 'work' }],
    // Not in Okta's request: CIAM cannot create a user without a phone number.
    phoneNumbers: [{ value: randomPhone, type: 'mobile' }],
    displayName: `${randomGivenName} ${randomFamilyName}`,
    active: true,
  };

  it('GET /Users?count=1&startIndex=1: a ListResponse of one complete user', async () => {
    const answer = await call('GET', '/Users?count=1&startIndex=1');
    expectListResponse(answer);
    expect(answer.body).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
    expect(answer.body.totalResults).toBe(stack.emulator.store.listUsers(STORE).length);
    const [first] = answer.body.Resources ?? [];
    expectOktaUser(first);
    ISVUserid = String(first?.id);
  });

  it('GET /Users/{ISVUserid}: the same user, complete', async () => {
    const answer = await call('GET', `/Users/${ISVUserid}`);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/scim+json');
    expectOktaUser(answer.body);
    expect(answer.body.id).toBe(ISVUserid);
    expect(answer.body.name).toEqual({ givenName: 'Alice', familyName: 'Seeded' });
  });

  it('GET /Users?filter=userName eq "{InvalidUserEmail}": an empty ListResponse', async () => {
    const answer = await usersWhere(`userName eq "${InvalidUserEmail}"`);
    expectListResponse(answer);
    expect(answer.body).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it.each([UserIdThatDoesNotExist, '00919288221112222'])(
    'GET /Users/%s (an id that does not exist): 404 in the Error schema',
    async (id) => {
      expectError(await call('GET', `/Users/${id}`), 404);
    },
  );

  it('GET /Users?filter=userName eq "{randomEmail}": the user to create does not exist yet', async () => {
    const answer = await usersWhere(`userName eq "${randomEmail}"`);
    expectListResponse(answer);
    expect(answer.body.totalResults).toBe(0);
  });

  it('POST /Users with realistic values: 201 with the user as sent', async () => {
    const answer = await call('POST', '/Users', create);
    expect(answer.status).toBe(201);
    expect(answer.contentType).toBe('application/scim+json');
    expect(answer.body.active).toBe(true);
    expectNotEmpty(answer.body.id, 'id');
    expect(answer.body.schemas).toContain(CORE_USER);
    expect(answer.body).toMatchObject({
      userName: randomUsername,
      name: { givenName: randomGivenName, familyName: randomFamilyName },
    });
    expectOktaUser(answer.body);
    idUserOne = String(answer.body.id);
    expect(stored(idUserOne)).toMatchObject({
      UserName: randomUsername,
      Email: randomEmail,
      PhoneNumber: randomPhone,
      Nickname: create.displayName,
      Status: 'NORMAL',
    });
    expect(customOf(idUserOne)).toMatchObject({
      given_name: randomGivenName,
      family_name: randomFamilyName,
    });
  });

  it('GET /Users/{idUserOne}: the created user, as created', async () => {
    const answer = await call('GET', `/Users/${idUserOne}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id: idUserOne,
      userName: randomUsername,
      name: { givenName: randomGivenName, familyName: randomFamilyName },
    });
    expectOktaUser(answer.body);
  });

  it('POST /Users again with the same values: 409 uniqueness, and no second user', async () => {
    const before = stack.emulator.store.listUsers(STORE).length;
    expectError(await call('POST', '/Users', create), 409, 'uniqueness');
    expect(stack.emulator.store.listUsers(STORE)).toHaveLength(before);
  });

  it('GET /Users?filter={randomUsernameCaps} (a bare value, the older revision): 400', async () => {
    const answer = await call('GET', `/Users?filter=${encodeURIComponent(randomUsernameCaps)}`);
    expectError(answer, 400, 'invalidFilter');
  });

  it('GET /Users?filter=userName eq "{randomUsernameCaps}" (the current revision): 200', async () => {
    // Okta's current revision asserts the status only; CIAM compares user names as stored.
    expectListResponse(await usersWhere(`userName eq "${randomUsernameCaps}"`));
  });

  it('GET /Users with a token that is not one: 401 in the Error schema', async () => {
    const answer = await call(
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${randomUsername}"`)}`,
      undefined,
      'non-token',
    );
    expectError(answer, 401);
  });
});

describe('Okta SCIM 2.0 CRUD Test: the SCIM requests it causes, in order', () => {
  let id = '';
  const userName = 'crud.tester@example.com';
  const oktaUser = (overrides: Json = {}): Json => ({
    schemas: [CORE_USER],
    userName,
    name: { givenName: 'Crud', middleName: '', familyName: 'Tester' },
    emails: [{ primary: true, value: userName, type: 'work', display: userName }],
    phoneNumbers: [{ value: '+6581230301', type: 'mobile' }],
    active: true,
    groups: [],
    meta: { resourceType: 'User' },
    ...overrides,
  });
  const setActive = (active: boolean) =>
    call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active } }],
    });

  it('looks the user up by userName before creating it: none', async () => {
    const answer = await usersWhere(`userName eq "${userName}"`, '&startIndex=1&count=100');
    expectListResponse(answer);
    expect(answer.body.totalResults).toBe(0);
  });

  it('creates it (with the password Okta sends unasked): 201, the adapter’s own password kept', async () => {
    const answer = await call('POST', '/Users', oktaUser({ password: 'Okta-Chosen-1!' }));
    expect(answer.status).toBe(201);
    expectOktaUser(answer.body);
    expect(answer.body).not.toHaveProperty('password');
    id = String(answer.body.id);
    expect(stored(id)).toMatchObject({ UserName: userName, PhoneNumber: '+6581230301' });
  });

  it('verifies the user was created: found by userName, and by id', async () => {
    const found = await usersWhere(`userName eq "${userName}"`, '&startIndex=1&count=100');
    expectListResponse(found);
    expect(found.body.Resources?.map((user) => user.id)).toEqual([id]);
    expectOktaUser(found.body.Resources?.[0]);
    const read = await call('GET', `/Users/${id}`);
    expect(read.status).toBe(200);
    expectOktaUser(read.body);
  });

  it('updates the first name with a GET and a full PUT: 200, the new name, CIAM changed', async () => {
    const current = await call('GET', `/Users/${id}`);
    const answer = await call(
      'PUT',
      `/Users/${id}`,
      oktaUser({ id, name: { givenName: 'Crudder', middleName: '', familyName: 'Tester' } }),
    );
    expect(current.status).toBe(200);
    expect(answer.status).toBe(200);
    expectOktaUser(answer.body);
    expect(answer.body.name).toEqual({ givenName: 'Crudder', familyName: 'Tester' });
    expect((await call('GET', `/Users/${id}`)).body.name).toEqual(answer.body.name);
    expect(customOf(id)).toMatchObject({ given_name: 'Crudder', family_name: 'Tester' });
    // The write went through the field clocks; they stay out of every SCIM answer.
    expect(customOf(id)).toHaveProperty('adapter_field_clocks');
  });

  it('updates the last name with PATCH: 200, the new name', async () => {
    const answer = await call('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'name.familyName', value: 'Testerson' }],
    });
    expect(answer.status).toBe(200);
    expectOktaUser(answer.body);
    expect(answer.body.name).toEqual({ givenName: 'Crudder', familyName: 'Testerson' });
    expect(customOf(id)).toMatchObject({ family_name: 'Testerson' });
  });

  it('deactivates (PATCH active false, no path): 200, inactive, and still found', async () => {
    const answer = await setActive(false);
    expect(answer.status).toBe(200);
    expectOktaUser(answer.body);
    expect(answer.body.active).toBe(false);
    expect(stored(id)?.Status).toBe('FREEZE');
    const read = await call('GET', `/Users/${id}`);
    expect(read.body.active).toBe(false);
    expectOktaUser(read.body);
  });

  it('reactivates (PATCH active true): 200, active again', async () => {
    const answer = await setActive(true);
    expect(answer.status).toBe(200);
    expect(answer.body.active).toBe(true);
    expect(stored(id)?.Status).toBe('NORMAL');
    expect((await call('GET', `/Users/${id}`)).body.active).toBe(true);
  });

  it('deactivates again when unassigned: 200, inactive; the user is never deleted', async () => {
    const answer = await setActive(false);
    expect(answer.status).toBe(200);
    expect(answer.body.active).toBe(false);
    expect(stored(id)).toMatchObject({ Status: 'FREEZE', UserName: userName });
  });
});

describe('Okta group push: the SCIM requests it causes, in order', () => {
  const groupsOf = (userId: string) => stored(userId)?.UserGroups ?? [];
  let id = '';

  it('finds the CIAM group by name to link the push group to', async () => {
    const answer = await call(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Staff"')}&startIndex=1&count=100`,
    );
    expectListResponse(answer);
    expect(answer.body.Resources).toHaveLength(1);
    id = String(answer.body.Resources?.[0]?.id);
    expect(id).toBe('group-staff');
  });

  it('pushes the name (path-less replace of id and displayName): 204, CIAM not renamed', async () => {
    const answer = await call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id, displayName: 'Staff' } }],
    });
    expect(answer.status).toBe(204);
  });

  it('pushes the members with a full PUT: 200, the group with its members, CIAM changed', async () => {
    const answer = await call('PUT', `/Groups/${id}`, {
      schemas: [GROUP],
      id,
      displayName: 'Staff',
      members: [{ value: 'demo-user-1', display: 'alice' }, { value: 'demo-user-2' }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.members?.map((m) => m.value).sort()).toEqual(['demo-user-1', 'demo-user-2']);
    expect(groupsOf('demo-user-1')).toContain(id);
    expect(groupsOf('demo-user-2')).toContain(id);
  });

  it('adds and removes members with PATCH: 204 each, CIAM changed', async () => {
    const add = await call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: 'demo-user-3' }] }],
    });
    expect(add.status).toBe(204);
    const remove = await call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: 'members[value eq "demo-user-1"]' }],
    });
    expect(remove.status).toBe(204);
    expect(groupsOf('demo-user-1')).not.toContain(id);
    expect(groupsOf('demo-user-3')).toContain(id);
  });

  it('replaces the member list with PATCH: 204, only those members left', async () => {
    const answer = await call('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'members', value: [{ value: 'demo-user-1' }] }],
    });
    expect(answer.status).toBe(204);
    const read = await call('GET', `/Groups/${id}`);
    expect(read.body.members?.map((m) => m.value)).toEqual(['demo-user-1']);
    expect(groupsOf('demo-user-2')).not.toContain(id);
    expect(groupsOf('demo-user-3')).not.toContain(id);
  });
});
