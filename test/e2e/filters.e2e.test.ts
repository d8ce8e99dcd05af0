import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// Connection filters over real HTTP: the local API Gateway, both functions and the queue between
// them (local/pipeline.ts), a fake Okta and the CIAM emulator. A change outside its connection's
// filter is answered 200 ignored / filtered, counted, logged without values, and never reaches
// CIAM, nor the queue; in a batch only the changes outside are left out.

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HOOK_SECRET = 'demo-okta-hook-secret';
const API_TOKEN = 'demo-okta-api-token';

type Json = Record<string, unknown>;

const local = readJson('config/local.json') as { connections: Json[] };
const withFilter = (id: string, filter: Json): Json => {
  const connection = local.connections.find((c) => c.id === id);
  if (connection === undefined) throw new Error(`config/local.json has no ${id}`);
  return { ...connection, filter };
};

/** Users of example.com only, by the change's subject: evaluated before mapping. */
const EXAMPLE_COM = { path: 'change.subject.email', op: 'endsWith', value: '@example.com' };

let okta: FakeOkta;
let stack: Stack;
const outcomes: Array<{ connectionId: string; outcome: string; count: number }> = [];
const written: string[] = [];

beforeAll(async () => {
  okta = await startFakeOkta({
    apiToken: API_TOKEN,
    users: [
      oktaUser('ext-alice', { email: 'alice.okta@example.com', department: 'Engineering' }),
      oktaUser('ext-bob', { email: 'bob.okta@example.com', department: 'Sales' }),
      oktaUser('ext-carol', { email: 'carol.okta@example.com' }),
    ],
  });
  stack = await startStack({
    config: {
      ...local,
      connections: [
        withFilter('clerk', { all: [EXAMPLE_COM] }),
        // The mapped update: evaluated after mapping, before the queue.
        withFilter('clerk-queued', {
          path: 'update.Email',
          op: 'endsWith',
          value: '@example.com',
        }),
        ...local.connections.filter((c) => c.id !== 'clerk' && c.id !== 'clerk-queued'),
        {
          id: 'okta',
          source: 'okta',
          userStoreId: 'local-store',
          secrets: {
            signing: [{ name: 'okta', key: 'hookSecret' }],
            apiToken: { name: 'okta', key: 'apiToken' },
          },
          resolve: { by: 'indexedAttribute', index: 1 },
          options: { orgUrl: okta.orgUrl },
          filter: { path: 'change.raw.profile.department', op: 'eq', value: 'Engineering' },
        },
        {
          ...withFilter('clerk', {
            any: [
              { path: 'change.raw.organization.id', op: 'eq', value: 'org_2demoStaff' },
              {
                path: 'change.raw.organization_memberships.organization.id',
                op: 'eq',
                value: 'org_2demoStaff',
              },
            ],
          }),
          id: 'clerk-staff',
        },
      ],
    },
    secrets: {
      ...(readJson('config/local-secrets.json') as object),
      okta: { hookSecret: HOOK_SECRET, apiToken: API_TOKEN },
    },
    deps: {
      recordOutcome: (connectionId, outcome, count) =>
        outcomes.push({ connectionId, outcome, count }),
      logger: new Logger({ serviceName: 'filters-e2e', logLevel: 'INFO' }),
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await okta?.close();
});
beforeEach(() => {
  stack.emulator.reset();
  outcomes.length = 0;
  written.length = 0;
  const capture = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
});
afterEach(() => vi.restoreAllMocks());

const clerkHeaders = (body: string, id = `msg_${randomUUID()}`, at = new Date()) => ({
  'svix-id': id,
  'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
  'svix-signature': new Webhook(CLERK_SECRET).sign(id, at, body),
});

const clerkUser = (id: string, email: string, data: Json = {}) =>
  JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: Date.now(),
    data: {
      id,
      object: 'user',
      first_name: 'Filtered',
      last_name: 'Test',
      primary_email_address_id: 'idn_1',
      email_addresses: [{ id: 'idn_1', object: 'email_address', email_address: email }],
      created_at: 1_700_000_000_000,
      updated_at: Date.now(),
      ...data,
    },
  });

const post = async (connectionId: string, body: string, headers: Record<string, string>) => {
  const res = await fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Json };
};

const postClerk = (connectionId: string, body: string, id = `msg_${randomUUID()}`) =>
  post(connectionId, body, clerkHeaders(body, id));

const updateUserCalls = () => stack.emulator.calls.filter((c) => c.action === 'UpdateUser');
const user = (id: string) => stack.emulator.store.getUser('local-store', id);

describe('connection filters end to end', () => {
  it('applies a Clerk user inside the email-domain filter', async () => {
    const res = await postClerk('clerk', clerkUser('ext-alice', 'alice.in@example.com'));
    expect(res).toMatchObject({ status: 200, body: { status: 'applied', userId: 'demo-user-1' } });
    expect(user('demo-user-1')?.Email).toBe('alice.in@example.com');
    expect(updateUserCalls()).toHaveLength(1);
  });

  it('answers 200 ignored / filtered for one outside, with no call to CIAM at all', async () => {
    const id = `msg_${randomUUID()}`;
    const res = await postClerk('clerk', clerkUser('ext-bob', 'bob@elsewhere.org'), id);
    expect(res).toEqual({
      status: 200,
      body: { status: 'ignored', eventId: id, eventType: 'user.updated', reason: 'filtered' },
    });
    expect(stack.emulator.calls).toEqual([]);
    expect(user('demo-user-2')?.Email).toBe('bob@example.com');
    expect(outcomes).toEqual([
      { connectionId: 'clerk', outcome: 'ignored', count: 1 },
      { connectionId: 'clerk', outcome: 'filtered', count: 1 },
    ]);
    // Logged with its reason, never with the values that decided it.
    const line = written.find((text) => text.includes('webhook processed')) ?? '';
    expect(JSON.parse(line)).toMatchObject({
      status: 'ignored',
      ignored: [{ eventId: id, eventType: 'user.updated', reason: 'filtered' }],
      subjects: [],
    });
    expect(written.join('\n')).not.toContain('elsewhere.org');
  });

  it('leaves out only the changes outside in an Okta batch', async () => {
    const event = (uuid: string, userId: string) => ({
      uuid,
      published: new Date().toISOString(),
      eventType: 'user.account.update_profile',
      version: '0',
      target: [{ id: userId, type: 'User', alternateId: `${userId}@example.com` }],
    });
    const body = JSON.stringify({
      eventType: 'com.okta.event_hook',
      eventId: randomUUID(),
      data: {
        events: [
          event('ev-alice', 'ext-alice'),
          event('ev-bob', 'ext-bob'),
          event('ev-carol', 'ext-carol'),
        ],
      },
    });
    const res = await post('okta', body, { authorization: HOOK_SECRET });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'applied',
      results: [{ status: 'applied', eventId: 'ev-alice', userId: 'demo-user-1' }],
      ignored: [
        { eventId: 'ev-bob', eventType: 'user.account.update_profile', reason: 'filtered' },
        // No department at all: absent, so `eq` is false.
        { eventId: 'ev-carol', eventType: 'user.account.update_profile', reason: 'filtered' },
      ],
    });
    expect(updateUserCalls()).toHaveLength(1);
    expect(user('demo-user-1')?.Email).toBe('alice.okta@example.com');
    expect(user('demo-user-2')?.Email).toBe('bob@example.com');
    expect(outcomes).toEqual(
      expect.arrayContaining([
        { connectionId: 'okta', outcome: 'applied', count: 1 },
        { connectionId: 'okta', outcome: 'ignored', count: 2 },
        { connectionId: 'okta', outcome: 'filtered', count: 2 },
      ]),
    );
  });

  it('filters a queued connection before the queue, on the mapped update', async () => {
    const queue = stack.queue.queue;
    const outside = await postClerk('clerk-queued', clerkUser('ext-bob', 'bob@elsewhere.org'));
    expect(outside).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'filtered' } });
    expect(queue.stats().total).toBe(0);
    expect(stack.emulator.calls).toEqual([]);

    const inside = await postClerk('clerk-queued', clerkUser('ext-bob', 'bob.in@example.com'));
    expect(inside).toMatchObject({ status: 202, body: { status: 'queued' } });
    await stack.queue.poller.drain();
    expect(user('demo-user-2')?.Email).toBe('bob.in@example.com');
    expect(stack.queue.deadLetterQueue.stats().total).toBe(0);
  });

  it('leaves out a change its mapping would refuse when the filter does not read the update', async () => {
    const phone = {
      primary_phone_number_id: 'idn_2',
      phone_numbers: [{ id: 'idn_2', phone_number: 'not-a-phone' }],
    };
    // `clerk` reads only the change: decided before mapping, so nothing is refused.
    const outside = await postClerk('clerk', clerkUser('ext-bob', 'bob@elsewhere.org', phone));
    expect(outside).toMatchObject({ status: 200, body: { reason: 'filtered' } });
    // `clerk-queued` reads the update: mapped first, and the mapping refuses it.
    const mapped = await postClerk(
      'clerk-queued',
      clerkUser('ext-bob', 'bob@elsewhere.org', phone),
    );
    expect(mapped).toMatchObject({ status: 422, body: { code: 'MAPPING_INVALID' } });
    expect(stack.emulator.calls).toEqual([]);
  });

  it('filters membership events too: another organization’s never reaches CIAM', async () => {
    const membership = (organizationId: string) =>
      JSON.stringify({
        type: 'organizationMembership.created',
        object: 'event',
        timestamp: Date.now(),
        data: {
          object: 'organization_membership',
          id: `orgmem_${randomUUID()}`,
          organization: { object: 'organization', id: organizationId, name: 'Staff' },
          public_user_data: { user_id: 'ext-carol', identifier: 'carol@example.com' },
          created_at: Date.now(),
          updated_at: Date.now(),
        },
      });
    const other = await postClerk('clerk-staff', membership('org_2demoOther'));
    expect(other).toMatchObject({ status: 200, body: { status: 'ignored', reason: 'filtered' } });
    // Not even the group lookup.
    expect(stack.emulator.calls).toEqual([]);

    const staff = await postClerk('clerk-staff', membership('org_2demoStaff'));
    expect(staff).toMatchObject({ status: 200, body: { status: 'applied' } });
    expect(user('demo-user-3')?.UserGroups).toContain('group-staff');
  });

  it('keeps a Clerk user of the organization through its memberships, and no other', async () => {
    const inOrg = clerkUser('ext-carol', 'carol.new@elsewhere.org', {
      organization_memberships: [{ organization: { id: 'org_2demoStaff' } }],
    });
    expect(await postClerk('clerk-staff', inOrg)).toMatchObject({
      status: 200,
      body: { status: 'applied' },
    });
    const noOrg = clerkUser('ext-bob', 'bob.new@example.com');
    expect(await postClerk('clerk-staff', noOrg)).toMatchObject({
      status: 200,
      body: { status: 'ignored', reason: 'filtered' },
    });
    expect(updateUserCalls()).toHaveLength(1);
  });
});
