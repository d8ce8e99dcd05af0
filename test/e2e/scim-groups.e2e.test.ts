// SCIM /Groups over real HTTP: the SCIM function behind the local API Gateway, against the CIAM
// emulator and its seeded groups (`group-staff` "Staff", `group-admins` "Admins"). Entra's and
// Okta's group provisioning sequences, each checked against the UserGroups CIAM then holds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const TOKEN = 'demo-scim-token';
const STORE = 'local-store';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const WRITES = new Set(['UpdateUser', 'CreateUser', 'UpdateUserStatus']);

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  contentType: string | null;
  body: Json & { Resources?: Json[]; members?: Json[] };
}

let stack: Stack;

beforeAll(async () => {
  const local = readJson('config/local.json') as { connections: Array<Record<string, unknown>> };
  const scim = local.connections.find((c) => c.id === 'scim');
  stack = await startStack({
    config: {
      ...local,
      connections: [
        ...local.connections,
        { ...scim, id: 'okta', options: {} },
        { ...scim, id: 'scim-small', options: { maxGroupMembersPerRequest: 2 } },
        { ...scim, id: 'scim-unguarded', staleGuard: { enabled: false } },
        {
          ...scim,
          id: 'scim-strict',
          options: { postGroups: 'refuse', deleteGroups: 'removeMembers' },
        },
      ],
    },
  });
});
afterAll(async () => stack?.close());
beforeEach(() => stack.emulator.reset());

const call = async (
  method: string,
  path: string,
  body?: unknown,
  connection = 'scim',
): Promise<Answer> => {
  const response = await fetch(`${stack.server.url}/scim/v2/${connection}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: text === '' ? {} : JSON.parse(text),
  };
};

const patchGroup = (id: string, operations: unknown[], connection = 'scim') =>
  call('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations: operations }, connection);

const groupsOf = (userId: string) => stack.emulator.store.getUser(STORE, userId)?.UserGroups ?? [];
const writes = () => stack.emulator.calls.filter((c) => WRITES.has(c.action));
const memberIds = (answer: Answer) => (answer.body.members ?? []).map((m) => m.value).sort();

const expectScimError = (answer: Answer, status: number, scimType?: string) => {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toBe('application/scim+json');
  expect(answer.body.schemas).toEqual([ERROR]);
  expect(answer.body.status).toBe(String(status));
  if (scimType !== undefined) expect(answer.body.scimType).toBe(scimType);
};

describe('SCIM Groups: discovery and reads', () => {
  it('advertises Group in ResourceTypes and Schemas', async () => {
    const types = await call('GET', '/ResourceTypes');
    expect(types.body.Resources?.map((r) => r.id)).toEqual(['User', 'Group']);
    expect((await call('GET', '/ResourceTypes/Group')).body).toMatchObject({
      endpoint: '/Groups',
      schema: GROUP,
    });
    const schema = await call('GET', `/Schemas/${GROUP}`);
    expect(schema.status).toBe(200);
    expect((schema.body.attributes as Json[]).map((a) => a.name)).toEqual([
      'displayName',
      'members',
    ]);
  });

  it('lists the user store groups, paged, with and without members', async () => {
    await patchGroup('group-staff', [
      { op: 'add', path: 'members', value: [{ value: 'demo-user-1' }] },
    ]);
    const all = await call('GET', '/Groups?excludedAttributes=members');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ totalResults: 2, startIndex: 1, itemsPerPage: 2 });
    expect(all.body.Resources?.map((g) => [g.id, g.displayName])).toEqual([
      ['group-staff', 'Staff'],
      ['group-admins', 'Admins'],
    ]);
    expect(all.body.Resources?.[0]).not.toHaveProperty('members');
    const withMembers = await call('GET', '/Groups?count=1');
    expect(withMembers.body.Resources?.[0]?.members).toEqual([
      expect.objectContaining({ value: 'demo-user-1', display: 'alice' }),
    ]);
    const second = await call('GET', '/Groups?startIndex=2&count=1');
    expect(second.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
    expect(second.body.Resources?.map((g) => g.id)).toEqual(['group-admins']);
    expect(second.body.Resources?.[0]?.members).toEqual([]);
  });

  it('filters by displayName, id and externalId (never stored: no match)', async () => {
    const byName = await call(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Admins"')}`,
    );
    expect(byName.body.Resources?.map((g) => g.id)).toEqual(['group-admins']);
    const byId = await call('GET', `/Groups?filter=${encodeURIComponent('id eq "group-staff"')}`);
    expect(byId.body.Resources?.map((g) => g.displayName)).toEqual(['Staff']);
    // Names are CIAM's, compared as stored: a part of a name is no match.
    for (const filter of ['displayName eq "Admin"', 'externalId eq "group-staff"']) {
      const none = await call('GET', `/Groups?filter=${encodeURIComponent(filter)}`);
      expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    }
    expectScimError(
      await call('GET', `/Groups?filter=${encodeURIComponent('displayName co "Adm"')}`),
      400,
      'invalidFilter',
    );
  });

  it('answers 404 for an unknown group or a POST of a name CIAM has not, and writes nothing', async () => {
    expectScimError(await call('GET', '/Groups/group-nope'), 404);
    expectScimError(
      await patchGroup('group-nope', [{ op: 'add', path: 'members', value: [] }]),
      404,
    );
    const post = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'New' });
    expectScimError(post, 404);
    expect(post.body.detail).toMatch(/CIAM console/);
    expectScimError(await call('DELETE', '/Groups/group-nope'), 404);
    expect(writes()).toEqual([]);
  });

  it('links a POST to the CIAM group of that name, adding its members and removing nobody', async () => {
    await patchGroup('group-staff', [
      { op: 'add', path: 'members', value: [{ value: 'demo-user-2' }] },
    ]);
    const post = await call('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Staff',
      members: [{ value: 'demo-user-1' }],
    });
    expect(post.status).toBe(201);
    expect(post.body).toMatchObject({ id: 'group-staff', displayName: 'Staff' });
    expect(memberIds(post)).toEqual(['demo-user-1', 'demo-user-2']);
    expect(groupsOf('demo-user-1')).toEqual(['group-staff']);
    // With postGroups "refuse", the same POST is a conflict and writes nothing.
    const before = writes().length;
    expectScimError(
      await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Staff' }, 'scim-strict'),
      409,
      'uniqueness',
    );
    expect(writes()).toHaveLength(before);
  });

  it('leaves memberships alone on DELETE by default, and removes every one with removeMembers', async () => {
    await patchGroup('group-staff', [
      { op: 'add', path: 'members', value: [{ value: 'demo-user-1' }, { value: 'demo-user-2' }] },
    ]);
    const ignored = await call('DELETE', '/Groups/group-staff');
    expect(ignored.status).toBe(204);
    expect(groupsOf('demo-user-1')).toEqual(['group-staff']);
    const removed = await call('DELETE', '/Groups/group-staff', undefined, 'scim-strict');
    expect(removed.status).toBe(204);
    expect(groupsOf('demo-user-1')).toEqual([]);
    expect(groupsOf('demo-user-2')).toEqual([]);
    // The CIAM group itself stays.
    expect((await call('GET', '/Groups/group-staff')).status).toBe(200);
  });
});

describe("Entra's group provisioning sequence", () => {
  it('finds the group by name, adds members, removes one by filter, and reads them back', async () => {
    const found = await call(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Staff"')}&excludedAttributes=members`,
    );
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(1);
    const group = found.body.Resources?.[0];
    expect(group).toMatchObject({ id: 'group-staff', displayName: 'Staff', schemas: [GROUP] });
    expect(group).not.toHaveProperty('members');
    const id = String(group?.id);

    const added = await patchGroup(id, [
      { op: 'Add', path: 'members', value: [{ value: 'demo-user-1' }, { value: 'demo-user-2' }] },
    ]);
    expect(added.status).toBe(204);
    expect(groupsOf('demo-user-1')).toEqual(['group-staff']);
    expect(groupsOf('demo-user-2')).toEqual(['group-staff']);

    const removed = await patchGroup(id, [
      { op: 'Remove', path: 'members[value eq "demo-user-1"]' },
    ]);
    expect(removed.status).toBe(204);
    expect(groupsOf('demo-user-1')).toEqual([]);
    expect(groupsOf('demo-user-2')).toEqual(['group-staff']);

    const read = await call('GET', `/Groups/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.members).toEqual([
      {
        value: 'demo-user-2',
        $ref: expect.stringMatching(/\/scim\/v2\/scim\/Users\/demo-user-2$/),
        display: 'bob',
      },
    ]);
    // Other groups a user is in are left as they are.
    expect(groupsOf('demo-user-3')).toEqual([]);
  });

  it('answers a displayName replace without renaming the CIAM group', async () => {
    const answer = await patchGroup('group-staff', [
      { op: 'Replace', path: 'displayName', value: 'Staff (renamed)' },
    ]);
    expect(answer.status).toBe(204);
    expect(writes()).toEqual([]);
    expect((await call('GET', '/Groups/group-staff')).body.displayName).toBe('Staff');
  });

  it('refuses an unknown member with 400 invalidValue and writes nothing, known ones included', async () => {
    const answer = await patchGroup('group-staff', [
      { op: 'Add', path: 'members', value: [{ value: 'demo-user-1' }, { value: 'no-such-user' }] },
    ]);
    expectScimError(answer, 400, 'invalidValue');
    expect(answer.body.detail).toMatch(/no-such-user/);
    expect(writes()).toEqual([]);
    expect(groupsOf('demo-user-1')).toEqual([]);
  });

  it('refuses more members than the connection allows, before any CIAM call', async () => {
    const answer = await patchGroup(
      'group-staff',
      [
        {
          op: 'add',
          path: 'members',
          value: [{ value: 'demo-user-1' }, { value: 'demo-user-2' }, { value: 'demo-user-3' }],
        },
      ],
      'scim-small',
    );
    expectScimError(answer, 400, 'invalidValue');
    expect(stack.emulator.calls).toEqual([]);
  });

  it('changes members on a connection without the stale-event guard too', async () => {
    await patchGroup(
      'group-admins',
      [{ op: 'Add', path: 'members', value: [{ value: 'demo-user-3' }] }],
      'scim-unguarded',
    );
    expect(groupsOf('demo-user-3')).toEqual(['group-admins']);
    await patchGroup(
      'group-admins',
      [{ op: 'Remove', path: 'members', value: [{ value: 'demo-user-3' }] }],
      'scim-unguarded',
    );
    expect(groupsOf('demo-user-3')).toEqual([]);
  });
});

describe("Okta's group push", () => {
  it('PUTs the full member list as a set difference, then PATCH-replaces it', async () => {
    await patchGroup(
      'group-admins',
      [{ op: 'add', path: 'members', value: [{ value: 'demo-user-1' }] }],
      'okta',
    );
    expect(groupsOf('demo-user-1')).toEqual(['group-admins']);
    const before = writes().length;

    const put = await call(
      'PUT',
      '/Groups/group-admins',
      {
        schemas: [GROUP],
        id: 'group-admins',
        displayName: 'Admins',
        members: [
          { value: 'demo-user-2', display: 'bob' },
          { value: 'demo-user-3', display: 'carol' },
        ],
      },
      'okta',
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'group-admins', displayName: 'Admins' });
    expect(memberIds(put)).toEqual(['demo-user-2', 'demo-user-3']);
    expect(groupsOf('demo-user-1')).toEqual([]);
    expect(groupsOf('demo-user-2')).toEqual(['group-admins']);
    expect(groupsOf('demo-user-3')).toEqual(['group-admins']);
    // One write per user whose membership changed.
    expect(writes().length - before).toBe(3);

    const replaced = await patchGroup(
      'group-admins',
      [{ op: 'replace', path: 'members', value: [{ value: 'demo-user-1' }] }],
      'okta',
    );
    expect(replaced.status).toBe(204);
    expect(groupsOf('demo-user-1')).toEqual(['group-admins']);
    expect(groupsOf('demo-user-2')).toEqual([]);
    expect(groupsOf('demo-user-3')).toEqual([]);

    const renamed = await patchGroup(
      'group-admins',
      [{ op: 'replace', value: { id: 'group-admins', displayName: 'Admins' } }],
      'okta',
    );
    expect(renamed.status).toBe(204);
    expect(memberIds(await call('GET', '/Groups/group-admins', undefined, 'okta'))).toEqual([
      'demo-user-1',
    ]);
  });

  it('keeps a user in its other groups', async () => {
    await patchGroup('group-staff', [
      { op: 'add', path: 'members', value: [{ value: 'demo-user-2' }] },
    ]);
    await call('PUT', '/Groups/group-admins', {
      schemas: [GROUP],
      displayName: 'Admins',
      members: [{ value: 'demo-user-2' }],
    });
    expect([...groupsOf('demo-user-2')].sort()).toEqual(['group-admins', 'group-staff']);
  });

  it('refuses a PUT naming an unknown user and writes nothing', async () => {
    const answer = await call('PUT', '/Groups/group-admins', {
      schemas: [GROUP],
      displayName: 'Admins',
      members: [{ value: 'demo-user-2' }, { value: 'ghost' }],
    });
    expectScimError(answer, 400, 'invalidValue');
    expect(writes()).toEqual([]);
  });
});
