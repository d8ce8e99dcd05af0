// Conformance over real HTTP: the SCIM function behind the local API Gateway, against the CIAM
// emulator, in the order of Entra's SCIM validator and Okta's SCIM test plan. Each scenario checks
// the SCIM answer and what CIAM holds (or that CIAM was not called at all).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const TOKEN = 'demo-scim-token';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

let stack: Stack;

beforeAll(async () => {
  const local = readJson('config/local.json') as { connections: Array<Record<string, unknown>> };
  const scim = local.connections.find((c) => c.id === 'scim');
  stack = await startStack({
    config: {
      ...local,
      connections: [
        ...local.connections,
        { ...scim, id: 'scim-create', options: { allowCreate: true, deactivate: 'freeze' } },
        { ...scim, id: 'scim-freeze', options: { deactivate: 'freeze' } },
      ],
    },
  });
});
afterAll(async () => stack?.close());
beforeEach(() => stack.emulator.reset());

interface Answer {
  status: number;
  contentType: string | null;
  headers: Headers;
  body: Record<string, unknown> & {
    Resources?: Array<Record<string, unknown>>;
  };
}

const call = async (
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; connection?: string; raw?: string } = {},
): Promise<Answer> => {
  const token = options.token === undefined ? TOKEN : options.token;
  const response = await fetch(
    `${stack.server.url}/scim/v2/${options.connection ?? 'scim'}${path}`,
    {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined && options.raw === undefined
          ? {}
          : { 'content-type': 'application/scim+json' }),
      },
      ...(options.raw !== undefined
        ? { body: options.raw }
        : body === undefined
          ? {}
          : { body: JSON.stringify(body) }),
    },
  );
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    headers: response.headers,
    body: text === '' ? {} : JSON.parse(text),
  };
};

const user = (id: string) => stack.emulator.store.getUser('local-store', id);
const actions = () => stack.emulator.calls.map((c) => c.action);
const patch = (id: string, ...operations: unknown[]) =>
  call('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: operations });

const expectScimError = (answer: Answer, status: number, scimType?: string) => {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toBe('application/scim+json');
  expect(answer.body.schemas).toEqual([ERROR]);
  expect(answer.body.status).toBe(String(status));
  if (scimType === undefined) expect(answer.body).not.toHaveProperty('scimType');
  else expect(answer.body.scimType).toBe(scimType);
};

describe('SCIM authentication', () => {
  it('answers 401 in the Error schema without a bearer token, with a wrong one, and calls no CIAM', async () => {
    for (const token of [null, 'wrong-token', '']) {
      const answer = await call('GET', '/Users?filter=userName%20eq%20%22alice%22', undefined, {
        token,
      });
      expectScimError(answer, 401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(actions()).toEqual([]);
  });

  it('answers 404 for a connection that does not exist or is not a SCIM one', async () => {
    expectScimError(await call('GET', '/Users', undefined, { connection: 'nope' }), 404);
    expectScimError(await call('GET', '/Users', undefined, { connection: 'clerk' }), 404);
  });

  it('leaves SCIM connections out of the webhook route', async () => {
    const response = await fetch(`${stack.server.url}/webhooks/scim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(404);
  });
});

describe('SCIM discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas (User, enterprise, Group)', async () => {
    const config = await call('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.contentType).toBe('application/scim+json');
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true } });
    const types = await call('GET', '/ResourceTypes');
    expect(types.body.Resources?.map((r) => r.id)).toEqual(['User', 'Group']);
    expect((await call('GET', '/ResourceTypes/User')).body.endpoint).toBe('/Users');
    const schemas = await call('GET', '/Schemas');
    expect(schemas.body.Resources?.map((r) => r.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      ENTERPRISE,
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    expect((await call('GET', `/Schemas/${ENTERPRISE}`)).body.name).toBe('EnterpriseUser');
    expect(actions()).toEqual([]);
  });

  it('lists the user store groups (GET /Groups), and none for a name CIAM does not have', async () => {
    const all = await call('GET', '/Groups?excludedAttributes=members');
    expect(all.status).toBe(200);
    expect(all.body.Resources?.map((g) => g.displayName)).toEqual(['Staff', 'Admins']);
    const none = await call('GET', '/Groups?filter=displayName%20eq%20%22x%22');
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [], itemsPerPage: 0 });
    expect(actions()).toEqual(['ListUserGroups', 'ListUserGroups']);
  });

  it('answers 404 for endpoints it does not serve, and 405 for methods', async () => {
    expectScimError(await call('GET', '/Groups/g1'), 404);
    expectScimError(await call('GET', '/Groups/group-staff/extra'), 404);
    expectScimError(await call('GET', '/Schemas/urn:nope'), 404);
    expectScimError(await call('GET', '/Users/demo-user-1/extra'), 404);
    expectScimError(await call('POST', '/ServiceProviderConfig', {}), 405);
    expectScimError(await call('DELETE', '/Users'), 405);
    expectScimError(await call('POST', '/Users/demo-user-1', {}), 405);
    expectScimError(await call('PUT', '/Schemas', {}), 405);
  });
});

describe('SCIM user lookup (Entra validator: filter before create; Okta: import)', () => {
  const list = (filter: string) => call('GET', `/Users?filter=${encodeURIComponent(filter)}`);

  it.each([
    ['userName eq "alice"', 'demo-user-1'],
    ['externalId eq "ext-bob"', 'demo-user-2'],
    ['emails[type eq "work"].value eq "carol@example.com"', 'demo-user-3'],
    ['emails.value eq "CAROL@example.com"', 'demo-user-3'],
    ['id eq "demo-user-2"', 'demo-user-2'],
    ['userName eq "alice" and externalId eq "ext-alice"', 'demo-user-1'],
  ])('finds %s', async (filter, id) => {
    const answer = await list(filter);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/scim+json');
    expect(answer.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(answer.body.Resources?.[0]).toMatchObject({ id, meta: { resourceType: 'User' } });
  });

  it('answers Entra’s Test Connection (a random GUID) with an empty ListResponse', async () => {
    for (const filter of [
      'userName eq "2a9c4d2e-6f0b-4f1e-9d8c-0b1e2f3a4b5c"',
      'externalId eq "2a9c4d2e-6f0b-4f1e-9d8c-0b1e2f3a4b5c"',
      'id eq "2a9c4d2e-6f0b-4f1e-9d8c-0b1e2f3a4b5c"',
      'userName eq "alice" and externalId eq "ext-bob"',
    ]) {
      const answer = await list(filter);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 0,
        Resources: [],
        startIndex: 1,
        itemsPerPage: 0,
      });
    }
  });

  it('pages without a filter with integer paging fields (Okta: startIndex=1&count=2)', async () => {
    const first = await call('GET', '/Users?startIndex=1&count=2');
    expect(first.body).toMatchObject({ totalResults: 3, startIndex: 1, itemsPerPage: 2 });
    const second = await call('GET', '/Users?startIndex=3&count=2');
    expect(second.body).toMatchObject({ totalResults: 3, startIndex: 3, itemsPerPage: 1 });
    const ids = [...(first.body.Resources ?? []), ...(second.body.Resources ?? [])].map(
      (r) => r.id,
    );
    expect(new Set(ids).size).toBe(3);
    const none = await call('GET', '/Users?count=0');
    expect(none.body).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
  });

  it.each([
    'userName eq',
    'userName co "ali"',
    'displayName eq "Alice"',
    'userName eq "a" or userName eq "b"',
    'userName eq 1',
    '((',
  ])('refuses %s with invalidFilter and calls no CIAM', async (filter) => {
    expectScimError(await list(filter), 400, 'invalidFilter');
    expect(actions()).toEqual([]);
  });

  it('refuses a non-integer startIndex with invalidValue', async () => {
    expectScimError(await call('GET', '/Users?startIndex=x'), 400, 'invalidValue');
    expect(actions()).toEqual([]);
  });
});

describe('SCIM attributes and excludedAttributes (RFC 7644 §3.4.2.5)', () => {
  it('answers a list with only the attributes asked for, id and schemas always', async () => {
    const answer = await call(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "alice"')}&attributes=userName,emails.value`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ totalResults: 1, itemsPerPage: 1 });
    expect(answer.body.Resources).toEqual([
      {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        id: 'demo-user-1',
        userName: 'alice',
        emails: [{ value: 'alice@example.com' }],
      },
    ]);
  });

  it('answers a read without the attributes excluded, never without id or schemas', async () => {
    const full = (await call('GET', '/Users/demo-user-2')).body;
    const answer = await call('GET', '/Users/demo-user-2?excludedAttributes=meta,phoneNumbers,id');
    expect(answer.status).toBe(200);
    const { meta: _meta, phoneNumbers: _phones, ...rest } = full;
    expect(answer.body).toEqual(rest);
  });

  it('filters on what it does not return: the filter sees the whole user', async () => {
    const answer = await call(
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "bob" and externalId eq "ext-bob"')}&attributes=id`,
    );
    expect(answer.body.Resources).toEqual([
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'demo-user-2' },
    ]);
  });

  it('refuses both at once, or a name that is no attribute, with invalidValue and no CIAM call', async () => {
    expectScimError(
      await call('GET', '/Users?attributes=userName&excludedAttributes=emails'),
      400,
      'invalidValue',
    );
    expectScimError(
      await call(
        'GET',
        `/Users/demo-user-1?attributes=${encodeURIComponent('emails[type eq "work"]')}`,
      ),
      400,
      'invalidValue',
    );
    expect(actions()).toEqual([]);
  });
});

describe('SCIM get by id', () => {
  it('renders the CIAM user (DescribeUserById, Original) as a SCIM User', async () => {
    const answer = await call('GET', '/Users/demo-user-1');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: 'demo-user-1',
      externalId: 'ext-alice',
      userName: 'alice',
      emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+6581234567', type: 'mobile' }],
      active: true,
      meta: { resourceType: 'User', location: expect.stringMatching(/\/Users\/demo-user-1$/) },
    });
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('answers 404 in the Error schema for an unknown id', async () => {
    expectScimError(await call('GET', '/Users/nobody'), 404);
  });
});

describe('SCIM PATCH (Entra and Okta forms)', () => {
  it('applies Entra’s default PATCH with one read and one UpdateUser', async () => {
    const answer = await patch(
      'demo-user-1',
      { op: 'Replace', path: 'name.givenName', value: 'Jane' },
      { op: 'Add', path: 'emails[type eq "work"].value', value: 'jane.doe@contoso.com' },
      { op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+6591234567' },
      { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Sales' },
      { op: 'Replace', path: 'active', value: 'True' },
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/scim+json');
    expect(answer.body).toMatchObject({
      id: 'demo-user-1',
      emails: [{ value: 'jane.doe@contoso.com' }],
      phoneNumbers: [{ value: '+6591234567' }],
    });
    expect(answer.body.meta).toMatchObject({ lastModified: expect.not.stringMatching(/^2024-/) });
    expect(user('demo-user-1')).toMatchObject({
      Email: 'jane.doe@contoso.com',
      PhoneNumber: '+6591234567',
      UserName: 'alice',
      IndexedAttribute1: 'ext-alice',
    });
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUser']);
  });

  it('applies the aadOptscim062020 form: lower-case ops, a path-less replace with dotted and URN keys', async () => {
    const answer = await patch(
      'demo-user-2',
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'robert@example.com' },
      {
        op: 'replace',
        value: {
          displayName: 'Robert',
          'name.givenName': 'Robert',
          [`${ENTERPRISE}:employeeNumber`]: '42',
          active: true,
        },
      },
    );
    expect(answer.status).toBe(200);
    expect(user('demo-user-2')).toMatchObject({ Email: 'robert@example.com', Nickname: 'Robert' });
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUser']);
  });

  it('adds an email where the user has none yet (Add on a filtered path creates the element)', async () => {
    await patch('demo-user-3', {
      op: 'Add',
      path: 'phoneNumbers[type eq "mobile"].value',
      value: '+6590000003',
    });
    expect(user('demo-user-3')?.PhoneNumber).toBe('+6590000003');
  });

  it('changes externalId, userName and addresses into the connection’s fields', async () => {
    await patch(
      'demo-user-1',
      { op: 'replace', path: 'externalId', value: 'ext-alice-2' },
      { op: 'replace', path: 'userName', value: 'alice2' },
      { op: 'add', path: 'addresses[type eq "work"].formatted', value: '1 Main St' },
    );
    expect(user('demo-user-1')).toMatchObject({
      IndexedAttribute1: 'ext-alice-2',
      UserName: 'alice2',
      Address: '1 Main St',
    });
  });

  it.each([
    ['Okta deactivation (path-less replace)', { op: 'replace', value: { active: false } }],
    ['Entra "False" string', { op: 'Replace', path: 'active', value: 'False' }],
    ['Entra Add on active', { op: 'Add', path: 'active', value: 'false' }],
    ['Entra’s periodic active=true', { op: 'Replace', path: 'active', value: 'True' }],
    [
      'an unchanged email',
      { op: 'Add', path: 'emails[type eq "work"].value', value: 'alice@example.com' },
    ],
    [
      'an unmapped enterprise attribute',
      { op: 'Add', path: `${ENTERPRISE}:manager`, value: [{ value: 'demo-user-2' }] },
    ],
  ])('answers %s with 200 and writes nothing (deactivate: ignore)', async (_name, operation) => {
    const before = user('demo-user-1');
    const answer = await patch('demo-user-1', operation);
    expect(answer.status).toBe(200);
    expect(answer.body.id).toBe('demo-user-1');
    expect(user('demo-user-1')).toEqual(before);
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('leaves a filter only the stored user can satisfy to the real run: applied, or noTarget', async () => {
    const applied = await patch('demo-user-1', {
      op: 'replace',
      path: 'emails[type ne "home"].value',
      value: 'alice.w@example.com',
    });
    expect(applied.status).toBe(200);
    expect(user('demo-user-1')?.Email).toBe('alice.w@example.com');
    stack.emulator.reset();
    const missed = await patch('demo-user-1', {
      op: 'replace',
      path: 'emails[type ne "work"].value',
      value: 'x@example.com',
    });
    expectScimError(missed, 400, 'noTarget');
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('maps CIAM’s EmailAlreadyExists to 409 uniqueness', async () => {
    const answer = await patch('demo-user-1', {
      op: 'replace',
      path: 'emails[type eq "work"].value',
      value: 'bob@example.com',
    });
    expectScimError(answer, 409, 'uniqueness');
    expect(user('demo-user-1')?.Email).toBe('alice@example.com');
  });

  it('answers 404 for an unknown user', async () => {
    expectScimError(await patch('nobody', { op: 'replace', path: 'displayName', value: 'x' }), 404);
  });

  it.each([
    ['an unknown op', { op: 'Move', path: 'displayName', value: 'x' }, 'invalidSyntax'],
    ['an op that is not a string', { op: 1, path: 'displayName' }, 'invalidSyntax'],
    [
      'a broken filter in the path',
      { op: 'add', path: 'emails[type eq', value: 'x' },
      'invalidPath',
    ],
    ['a malformed path', { op: 'add', path: 'emails..value', value: 'x' }, 'invalidPath'],
    ['a path that is not a string', { op: 'add', path: 5, value: 'x' }, 'invalidPath'],
    ['remove without a path', { op: 'remove' }, 'invalidPath'],
    [
      'a boolean that is not one',
      { op: 'replace', path: 'active', value: 'maybe' },
      'invalidValue',
    ],
    [
      'a userName that is not a string',
      { op: 'replace', path: 'userName', value: 7 },
      'invalidValue',
    ],
    ['a path-less op with a string value', { op: 'replace', value: 'x' }, 'invalidValue'],
    ['add without a value', { op: 'add', path: 'displayName' }, 'invalidValue'],
    ['changing the id', { op: 'replace', path: 'id', value: 'other' }, 'mutability'],
    ['changing the id without a path', { op: 'replace', value: { id: 'other' } }, 'mutability'],
    [
      'a value filter on a single-valued attribute',
      { op: 'add', path: 'userName[type eq "x"]', value: {} },
      'invalidPath',
    ],
  ])('refuses %s with a SCIM error and calls no CIAM', async (_name, operation, scimType) => {
    expectScimError(await patch('demo-user-1', operation), 400, scimType);
    expect(actions()).toEqual([]);
  });

  it.each([
    ['a body that is not JSON', '{"Operations": ['],
    ['no Operations', '{"schemas":[]}'],
    ['an empty Operations list', '{"Operations":[]}'],
    ['an array body', '[]'],
  ])('refuses %s with invalidSyntax and calls no CIAM', async (_name, raw) => {
    expectScimError(
      await call('PATCH', '/Users/demo-user-1', undefined, { raw }),
      400,
      'invalidSyntax',
    );
    expect(actions()).toEqual([]);
  });
});

describe('SCIM PUT (Okta’s update path)', () => {
  const oktaPut = (id: string, overrides: Record<string, unknown> = {}) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    id,
    userName: 'alice',
    name: { givenName: 'Alice', middleName: '', familyName: 'Liddell' },
    emails: [{ primary: true, value: 'alice@wonderland.example', type: 'work', display: 'x' }],
    phoneNumbers: [{ type: 'mobile', value: '+6580000001' }],
    active: true,
    groups: [],
    meta: { resourceType: 'User' },
    ...overrides,
  });

  it('replaces the mapped fields and leaves what the PUT omits untouched', async () => {
    const answer = await call('PUT', '/Users/demo-user-1', oktaPut('demo-user-1'));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: 'demo-user-1', userName: 'alice' });
    expect(user('demo-user-1')).toMatchObject({
      Email: 'alice@wonderland.example',
      PhoneNumber: '+6580000001',
      Nickname: 'Alice Liddell',
      // externalId absent from the PUT: the IndexedAttribute is not blanked.
      IndexedAttribute1: 'ext-alice',
    });
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUser']);
  });

  it('accepts Okta AIW’s deactivation by PUT (active: false) and writes nothing else', async () => {
    const before = user('demo-user-2');
    const answer = await call(
      'PUT',
      '/Users/demo-user-2',
      oktaPut('demo-user-2', {
        userName: 'bob',
        emails: [{ value: 'bob@example.com', type: 'work', primary: true }],
        phoneNumbers: [{ value: '+6581234568', type: 'mobile' }],
        name: undefined,
        active: 'False',
      }),
    );
    expect(answer.status).toBe(200);
    expect(user('demo-user-2')).toEqual(before);
  });

  it('refuses a different id (mutability), a non-User body and bad types, with no CIAM call', async () => {
    expectScimError(
      await call('PUT', '/Users/demo-user-1', oktaPut('demo-user-2')),
      400,
      'mutability',
    );
    expectScimError(
      await call('PUT', '/Users/demo-user-1', { schemas: ['urn:other'], userName: 'x' }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await call('PUT', '/Users/demo-user-1', oktaPut('demo-user-1', { emails: 'x' })),
      400,
      'invalidValue',
    );
    expectScimError(await call('PUT', '/Users/demo-user-1', [1]), 400, 'invalidSyntax');
    expect(actions()).toEqual([]);
  });

  it('answers 404 for an unknown user', async () => {
    expectScimError(await call('PUT', '/Users/nobody', oktaPut('nobody')), 404);
  });
});

describe('SCIM POST (link, uniqueness, create)', () => {
  const newUser = (overrides: Record<string, unknown> = {}) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'dave',
    externalId: 'ext-dave',
    emails: [{ value: 'dave@example.com', type: 'work', primary: true }],
    phoneNumbers: [{ value: '+6581234599', type: 'mobile' }],
    displayName: 'Dave',
    active: true,
    ...overrides,
  });

  it('links to the CIAM user found by the connection’s resolution, with 201, and again on a re-POST', async () => {
    const body = newUser({
      userName: 'alice',
      externalId: 'ext-alice',
      emails: [{ value: 'alice@example.com', type: 'work' }],
      phoneNumbers: [{ value: '+6581234567', type: 'mobile' }],
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await call('POST', '/Users', body);
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ id: 'demo-user-1', userName: 'alice' });
    }
    // displayName was new: written once, then nothing left to change.
    expect(user('demo-user-1')?.Nickname).toBe('Dave');
    expect(actions().filter((a) => a === 'UpdateUser')).toHaveLength(1);
  });

  it('forgets a cached link when the externalId it was found by changes', async () => {
    const body = newUser({
      userName: 'alice',
      externalId: 'ext-alice',
      emails: [],
      phoneNumbers: [],
    });
    expect((await call('POST', '/Users', body)).body.id).toBe('demo-user-1');
    await patch('demo-user-1', { op: 'replace', path: 'externalId', value: 'ext-alice-2' });
    // Nobody holds ext-alice any more, and alice's userName is taken: no stale link to alice.
    expectScimError(await call('POST', '/Users', body), 409, 'uniqueness');
  });

  it('answers 409 uniqueness when no user links but the userName or email is taken', async () => {
    expectScimError(await call('POST', '/Users', newUser({ userName: 'bob' })), 409, 'uniqueness');
    expectScimError(
      await call('POST', '/Users', newUser({ emails: [{ value: 'BOB@example.com' }] })),
      409,
      'uniqueness',
    );
    expect(actions()).not.toContain('UpdateUser');
  });

  it('refuses to create without allowCreate (403) and creates with it (CreateUser, 201)', async () => {
    expectScimError(await call('POST', '/Users', newUser()), 403);
    expect(actions()).not.toContain('CreateUser');
    const answer = await call('POST', '/Users', newUser(), { connection: 'scim-create' });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ userName: 'dave', externalId: 'ext-dave' });
    expect(user(String(answer.body.id))).toMatchObject({
      UserName: 'dave',
      Email: 'dave@example.com',
      IndexedAttribute1: 'ext-dave',
      Nickname: 'Dave',
    });
    const found = await call(
      'GET',
      `/Users?filter=${encodeURIComponent('externalId eq "ext-dave"')}`,
    );
    expect(found.body.Resources?.[0]?.id).toBe(answer.body.id);
  });

  it('refuses to create a user without a phone number (invalidValue) before calling CIAM', async () => {
    const answer = await call(
      'POST',
      '/Users',
      newUser({ externalId: undefined, phoneNumbers: undefined }),
      { connection: 'scim-create' },
    );
    expectScimError(answer, 400, 'invalidValue');
    expect(answer.body.detail).toContain('phoneNumbers (CIAM PhoneNumber)');
    expect(actions()).toEqual([]);
  });

  it('keeps name.givenName and name.familyName a create sends, and answers them on every read', async () => {
    const name = { givenName: 'Dave', familyName: 'Bowman' };
    const created = await call('POST', '/Users', newUser({ name }), { connection: 'scim-create' });
    expect(created.status).toBe(201);
    expect(created.body.name).toEqual(name);
    const id = String(created.body.id);
    expect(user(id)?.CustomAttributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'given_name', Value: 'Dave' }),
        expect.objectContaining({ Name: 'family_name', Value: 'Bowman' }),
      ]),
    );
    expect(
      (await call('GET', `/Users/${id}`, undefined, { connection: 'scim-create' })).body.name,
    ).toEqual(name);
  });

  it('refuses a user without userName (invalidValue) and a body that is not JSON (invalidSyntax)', async () => {
    expectScimError(
      await call('POST', '/Users', newUser({ userName: undefined })),
      400,
      'invalidValue',
    );
    expectScimError(await call('POST', '/Users', undefined, { raw: 'nope' }), 400, 'invalidSyntax');
    expect(actions()).toEqual([]);
  });
});

describe('SCIM DELETE (Entra) with deactivate: ignore', () => {
  it('answers 204 and leaves the CIAM user as it is', async () => {
    const before = user('demo-user-3');
    const answer = await call('DELETE', '/Users/demo-user-3');
    expect(answer.status).toBe(204);
    expect(user('demo-user-3')).toEqual(before);
    expect(actions()).toEqual(['DescribeUserById']);
    // Entra: the user must still be returned afterwards.
    expect((await call('GET', '/Users/demo-user-3')).status).toBe(200);
  });

  it('answers 404 for an unknown user', async () => {
    expectScimError(await call('DELETE', '/Users/nobody'), 404);
  });
});

describe('SCIM upstream failures', () => {
  it('answers 503 with Retry-After in the Error schema when CIAM keeps failing', async () => {
    stack.emulator.faults.configure({ rates: { InternalError: 1 }, actions: ['DescribeUserById'] });
    const answer = await call('GET', '/Users/demo-user-1');
    expectScimError(answer, 503);
    expect(answer.headers.get('retry-after')).toBe('5');
  });

  it('answers 429 with Retry-After in the Error schema when CIAM keeps refusing for its rate limit', async () => {
    stack.emulator.faults.configure({
      rates: { RequestLimitExceeded: 1 },
      actions: ['DescribeUserById'],
    });
    const answer = await patch('demo-user-1', { op: 'replace', path: 'displayName', value: 'x' });
    expectScimError(answer, 429);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(actions()).not.toContain('UpdateUser');
  });
});

describe('SCIM deactivate: freeze (UpdateUserStatus)', () => {
  const freezePatch = (id: string, value: unknown) =>
    call(
      'PATCH',
      `/Users/${id}`,
      { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value }] },
      { connection: 'scim-freeze' },
    );

  it('freezes on active "False", answers active: false, and lifts the freeze on active true', async () => {
    const frozen = await freezePatch('demo-user-1', 'False');
    expect(frozen.status).toBe(200);
    expect(frozen.body.active).toBe(false);
    expect(user('demo-user-1')?.Status).toBe('FREEZE');
    expect(actions()).toEqual(['DescribeUserById', 'UpdateUserStatus']);
    // Entra: still returned while inactive.
    const read = await call('GET', '/Users/demo-user-1', undefined, { connection: 'scim-freeze' });
    expect(read.body).toMatchObject({ id: 'demo-user-1', active: false });

    stack.emulator.reset();
    await freezePatch('demo-user-2', false);
    const again = await freezePatch('demo-user-2', false);
    expect(again.body.active).toBe(false);
    const thawed = await freezePatch('demo-user-2', 'true');
    expect(thawed.body.active).toBe(true);
    expect(user('demo-user-2')?.Status).toBe('NORMAL');
    // Freeze, nothing for the repeat, thaw.
    expect(actions().filter((a) => a === 'UpdateUserStatus')).toHaveLength(2);
  });

  it('sends nothing for Entra’s periodic active=true on an active user', async () => {
    await freezePatch('demo-user-3', 'True');
    expect(actions()).toEqual(['DescribeUserById']);
  });

  it('freezes on DELETE, and on Okta AIW’s PUT with active: false', async () => {
    expect(
      (await call('DELETE', '/Users/demo-user-3', undefined, { connection: 'scim-freeze' })).status,
    ).toBe(204);
    expect(user('demo-user-3')?.Status).toBe('FREEZE');
    const put = await call(
      'PUT',
      '/Users/demo-user-2',
      { userName: 'bob', active: false },
      { connection: 'scim-freeze' },
    );
    expect(put.body.active).toBe(false);
    expect(user('demo-user-2')?.Status).toBe('FREEZE');
  });

  it('creates a user inactive when POSTed with active: false', async () => {
    const answer = await call(
      'POST',
      '/Users',
      {
        userName: 'erin',
        emails: [{ value: 'erin@example.com', type: 'work' }],
        phoneNumbers: [{ value: '+6581230000', type: 'mobile' }],
        active: false,
      },
      { connection: 'scim-create' },
    );
    expect(answer.status).toBe(201);
    expect(user(String(answer.body.id))?.Status).toBe('FREEZE');
  });
});
