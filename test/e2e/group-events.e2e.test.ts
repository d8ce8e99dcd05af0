import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENDERS } from '../../lib/sources/senders.ts';
import { signWorkos } from '../../lib/sources/workos/signature.ts';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WORKOS_SECRET = 'wos_demo_secret';
const OKTA_HOOK_SECRET = 'demo-okta-hook-secret';
const OKTA_API_TOKEN = 'demo-okta-api-token';
const STORE = 'local-store';

let okta: FakeOkta;
let stack: Stack;

beforeAll(async () => {
  okta = await startFakeOkta({
    apiToken: OKTA_API_TOKEN,
    users: [oktaUser('ext-bob', { login: 'bob', email: 'bob@example.com' })],
  });
  // config/local.json as shipped (its WorkOS and Clerk connections take group events by
  // default), plus an Okta connection on the same user store.
  const local = readJson('config/local.json') as { connections: unknown[] };
  stack = await startStack({
    config: {
      ...local,
      connections: [
        ...local.connections,
        {
          id: 'okta',
          source: 'okta',
          userStoreId: STORE,
          secrets: {
            signing: [{ name: 'okta', key: 'hookSecret' }],
            apiToken: { name: 'okta', key: 'apiToken' },
          },
          resolve: { by: 'indexedAttribute', index: 1 },
          options: { orgUrl: okta.orgUrl },
        },
      ],
    },
    secrets: {
      ...(readJson('config/local-secrets.json') as object),
      okta: { hookSecret: OKTA_HOOK_SECRET, apiToken: OKTA_API_TOKEN },
    },
  });
});

afterAll(async () => {
  await stack?.close();
  await okta?.close();
});

const groupsOf = async (userId: string) => {
  const { User } = await stack.ciam.describeUserById({ UserStoreId: STORE, UserId: userId });
  return User?.UserGroups ?? [];
};

const postWorkos = (event: string, createdAt: string) => {
  const body = JSON.stringify({
    id: `event_${randomUUID()}`,
    object: 'event',
    event,
    created_at: createdAt,
    data: {
      directory_id: 'directory_demo',
      user: {
        object: 'directory_user',
        id: 'ext-alice',
        email: 'alice@example.com',
        state: 'active',
        updated_at: '2024-06-01T09:00:00.000Z',
      },
      group: { object: 'directory_group', id: 'directory_group_staff', name: 'Staff' },
    },
  });
  return fetch(`${stack.server.url}/webhooks/workos`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'workos-signature': signWorkos(WORKOS_SECRET, Date.now(), body),
    },
    body,
  });
};

const postOkta = (events: unknown[]) =>
  fetch(`${stack.server.url}/webhooks/okta`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: OKTA_HOOK_SECRET },
    body: JSON.stringify({
      eventType: 'com.okta.event_hook',
      eventId: randomUUID(),
      eventTime: '2024-06-01T12:00:02.000Z',
      data: { events },
    }),
  });

const oktaMembership = (eventType: string, published: string) => ({
  uuid: randomUUID(),
  published,
  eventType,
  target: [
    { id: 'ext-bob', type: 'User', alternateId: 'bob', displayName: 'Bob' },
    { id: '00gAdmins', type: 'UserGroup', alternateId: 'unknown', displayName: 'Admins' },
  ],
});

describe('group membership events end to end (local server → handler → CIAM emulator)', () => {
  it('keeps a WorkOS user in Staff when an older user_removed arrives after user_added', async () => {
    const added = await postWorkos('dsync.group.user_added', '2024-06-01T12:00:00.000Z');
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ status: 'applied', userId: 'demo-user-1' });
    expect(await groupsOf('demo-user-1')).toEqual(['group-staff']);

    // Removed earlier at the source, delivered late: the membership's clock is newer.
    const removed = await postWorkos('dsync.group.user_removed', '2024-06-01T11:00:00.000Z');
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ status: 'ignored', reason: 'stale' });
    expect(await groupsOf('demo-user-1')).toEqual(['group-staff']);
  });

  it('applies an Okta add, then the remove that follows it', async () => {
    const add = await postOkta([
      oktaMembership('group.user_membership.add', '2024-06-01T12:00:00.000Z'),
    ]);
    expect(add.status).toBe(200);
    expect(await add.json()).toMatchObject({ status: 'applied', userId: 'demo-user-2' });
    expect(await groupsOf('demo-user-2')).toEqual(['group-admins']);

    const remove = await postOkta([
      oktaMembership('group.user_membership.remove', '2024-06-01T12:05:00.000Z'),
    ]);
    expect(remove.status).toBe(200);
    expect(await remove.json()).toMatchObject({ status: 'applied', userId: 'demo-user-2' });
    expect(await groupsOf('demo-user-2')).toEqual([]);
  });

  it('ignores a Clerk organization membership for an organization CIAM has no group for', async () => {
    const before = await groupsOf('demo-user-3');
    const body = JSON.stringify({
      object: 'event',
      type: 'organizationMembership.created',
      timestamp: 1716883200,
      data: {
        object: 'organization_membership',
        id: 'orgmem_demo',
        role: 'org:member',
        organization: { object: 'organization', id: 'org_acme', name: 'Acme Corp' },
        public_user_data: { user_id: 'ext-carol', identifier: 'carol@example.com' },
        created_at: 1716883200000,
        updated_at: 1716883200000,
      },
    });
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    const res = await fetch(`${stack.server.url}/webhooks/clerk`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'svix-id': id,
        'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
        'svix-signature': new Webhook(CLERK_SECRET).sign(id, at, body),
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ignored',
      eventId: id,
      eventType: 'organizationMembership.created',
      reason: 'group_not_mapped',
    });
    expect(await groupsOf('demo-user-3')).toEqual(before);
  });
});

describe('the committed group membership samples (events/)', () => {
  it.each([
    ['workos.group-user-added', 'workos', 'workos', WORKOS_SECRET, 'demo-user-2'],
    [
      'clerk.organization-membership-created',
      'clerk',
      'standard-webhooks',
      CLERK_SECRET,
      'demo-user-3',
    ],
  ] as const)(
    '%s, signed now, puts its user in Staff',
    async (file, connection, source, secret, userId) => {
      const sample = readJson(`events/${file}.json`) as {
        body: string;
        headers: Record<string, string>;
      };
      const id = sample.headers['svix-id'];
      const headers = SENDERS[source](
        {
          body: Buffer.from(sample.body),
          secret,
          nowMs: Date.now(),
          ...(id === undefined ? {} : { eventId: id }),
        },
        {},
      );
      const res = await fetch(`${stack.server.url}/webhooks/${connection}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: sample.body,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'applied', userId });
      expect(await groupsOf(userId)).toContain('group-staff');
    },
  );
});
