import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorCall } from '../../emulator/server.ts';
import { signWorkos } from '../../lib/sources/workos/signature.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// Group membership events on a connection of the non-default tenant `acme` (AKIDacmedemo,
// acme-store), over real HTTP to the local API Gateway and the CIAM emulator. The emulator's seed
// gives both tenants' stores a group named "Staff" (group-staff in local-store, acme-group-staff
// in acme-store) and only the default store a group named "Admins": a lookup made in the wrong
// account or store would find the other tenant's group.

const WORKOS_SECRET = 'wos_demo_secret';
const DEFAULT_KEY = 'AKIDlocaldemo';
const ACME_KEY = 'AKIDacmedemo';

interface ConnectionConfig {
  id: string;
  reconcile?: unknown;
}

/** config/local.json plus `workos` twins on tenant acme's store: one sync, one queued. */
const acmeWorkosConfig = () => {
  const config = readJson('config/local.json') as { connections: ConnectionConfig[] };
  const workos = config.connections.find((c) => c.id === 'workos');
  if (workos === undefined) throw new Error('config/local.json has no workos');
  const { reconcile: _reconcile, ...events } = workos;
  const acme = { ...events, tenant: 'acme', userStoreId: 'acme-store' };
  return {
    ...config,
    connections: [
      ...config.connections,
      { ...acme, id: 'workos-acme', delivery: 'sync' },
      { ...acme, id: 'workos-acme-queued', delivery: 'queued' },
    ],
  };
};

const postMembership = (
  stack: Stack,
  connectionId: string,
  event: 'dsync.group.user_added' | 'dsync.group.user_removed',
  user: { id: string; email: string },
  group: string,
  createdAt: string,
) => {
  const body = JSON.stringify({
    id: `event_${randomUUID()}`,
    object: 'event',
    event,
    created_at: createdAt,
    data: {
      directory_id: 'directory_demo',
      user: {
        object: 'directory_user',
        ...user,
        state: 'active',
        updated_at: '2024-06-01T09:00:00.000Z',
      },
      group: { object: 'directory_group', id: `directory_group_${group}`, name: group },
    },
  });
  return fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'workos-signature': signWorkos(WORKOS_SECRET, Date.now(), body),
    },
    body,
  });
};

const DANA = { id: 'ext-dana', email: 'dana@acme.example' };
const ERIK = { id: 'ext-erik', email: 'erik@acme.example' };
const ALICE = { id: 'ext-alice', email: 'alice@example.com' };

const groupLookupsAndWrites = (calls: readonly EmulatorCall[]) =>
  calls
    .filter((c) => c.action === 'ListUserGroups' || c.action === 'UpdateUser')
    .map((c) => ({ action: c.action, secretId: c.secretId, userStoreId: c.userStoreId }));

/**
 * A default-tenant membership event first, so that tenant's group lookup holds "Staff" →
 * group-staff: acme's event must not use it. Answers where the calls after it start.
 */
const warmDefaultStaff = async (stack: Stack): Promise<number> => {
  const local = await postMembership(
    stack,
    'workos',
    'dsync.group.user_added',
    ALICE,
    'Staff',
    '2024-06-01T12:00:00.000Z',
  );
  expect(await local.json()).toMatchObject({ status: 'applied', userId: 'demo-user-1' });
  expect(groupLookupsAndWrites(stack.emulator.calls)).toContainEqual({
    action: 'ListUserGroups',
    secretId: DEFAULT_KEY,
    userStoreId: 'local-store',
  });
  return stack.emulator.calls.length;
};

/** The `UserGroup` list each UpdateUser call sent. */
const groupsWritten = (calls: readonly EmulatorCall[]) =>
  calls
    .filter((c) => c.action === 'UpdateUser')
    .map((c) => (JSON.parse(c.body) as { UserGroup?: string[] }).UserGroup);

describe('group membership events on a connection of tenant acme', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ config: acmeWorkosConfig() });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the seed gives both stores a "Staff" group, and only the default store "Admins"', () => {
    const names = (store: string) =>
      stack.emulator.store.listGroups(store).map((g) => [g.DisplayName, g.UserGroupId]);
    expect(names('acme-store')).toEqual([['Staff', 'acme-group-staff']]);
    expect(names('local-store')).toEqual([
      ['Staff', 'group-staff'],
      ['Admins', 'group-admins'],
    ]);
  });

  it("looks up and writes acme's own Staff group with acme's key only (sync)", async () => {
    const from = await warmDefaultStaff(stack);

    const added = await postMembership(
      stack,
      'workos-acme',
      'dsync.group.user_added',
      DANA,
      'Staff',
      '2024-06-01T12:00:00.000Z',
    );
    expect(added.status).toBe(200);
    expect(await added.json()).toMatchObject({ status: 'applied', userId: 'acme-user-1' });

    const calls = stack.emulator.calls.slice(from);
    // Every call for acme's delivery was signed with acme's key, on acme's store.
    expect([...new Set(calls.map((c) => c.secretId))]).toEqual([ACME_KEY]);
    expect([...new Set(calls.map((c) => c.userStoreId))]).toEqual(['acme-store']);
    expect(groupLookupsAndWrites(calls)).toEqual([
      { action: 'ListUserGroups', secretId: ACME_KEY, userStoreId: 'acme-store' },
      { action: 'UpdateUser', secretId: ACME_KEY, userStoreId: 'acme-store' },
    ]);
    expect(groupsWritten(calls)).toEqual([['acme-group-staff']]);
    expect(calls.filter((c) => c.code !== undefined)).toEqual([]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-1')?.UserGroups).toEqual([
      'acme-group-staff',
    ]);
    // The default tenant's Staff group holds only the default tenant's member.
    expect(stack.emulator.store.getUser('local-store', 'demo-user-1')?.UserGroups).toEqual([
      'group-staff',
    ]);

    // And the removal, later at the source: acme's user leaves acme's group, nothing else moves.
    const before = stack.emulator.calls.length;
    const removed = await postMembership(
      stack,
      'workos-acme',
      'dsync.group.user_removed',
      DANA,
      'Staff',
      '2024-06-01T12:05:00.000Z',
    );
    expect(await removed.json()).toMatchObject({ status: 'applied', userId: 'acme-user-1' });
    const removal = stack.emulator.calls.slice(before);
    expect([...new Set(removal.map((c) => c.secretId))]).toEqual([ACME_KEY]);
    expect(groupsWritten(removal)).toEqual([[]]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-1')?.UserGroups ?? []).toEqual([]);
    expect(stack.emulator.store.getUser('local-store', 'demo-user-1')?.UserGroups).toEqual([
      'group-staff',
    ]);
  });

  it("never maps an acme membership to a group only the default tenant's store has", async () => {
    const from = stack.emulator.calls.length;
    const res = await postMembership(
      stack,
      'workos-acme',
      'dsync.group.user_added',
      DANA,
      'Admins',
      '2024-06-01T13:00:00.000Z',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ignored', reason: 'group_not_mapped' });
    const calls = stack.emulator.calls.slice(from);
    // Looked up in acme's store, with acme's key; not found there, so nothing written.
    expect(groupLookupsAndWrites(calls)).toEqual([
      { action: 'ListUserGroups', secretId: ACME_KEY, userStoreId: 'acme-store' },
    ]);
    expect(stack.emulator.store.getUser('local-store', 'demo-user-2')?.UserGroups).toBeUndefined();
  });
});

describe('a queued group membership event on a connection of tenant acme', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ config: acmeWorkosConfig() });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("looks up and writes acme's own Staff group with acme's key only", async () => {
    const from = await warmDefaultStaff(stack);
    const res = await postMembership(
      stack,
      'workos-acme-queued',
      'dsync.group.user_added',
      ERIK,
      'Staff',
      '2024-06-01T12:00:00.000Z',
    );
    expect(res.status).toBe(202);
    await stack.queue.poller.drain();
    const calls = stack.emulator.calls.slice(from);
    expect([...new Set(calls.map((c) => c.secretId))]).toEqual([ACME_KEY]);
    expect([...new Set(calls.map((c) => c.userStoreId))]).toEqual(['acme-store']);
    expect(groupLookupsAndWrites(calls)).toEqual([
      { action: 'ListUserGroups', secretId: ACME_KEY, userStoreId: 'acme-store' },
      { action: 'UpdateUser', secretId: ACME_KEY, userStoreId: 'acme-store' },
    ]);
    expect(groupsWritten(calls)).toEqual([['acme-group-staff']]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-2')?.UserGroups).toEqual([
      'acme-group-staff',
    ]);
    expect(stack.queue.deadLetterQueue.stats().total).toBe(0);
    expect(stack.queue.pollerErrors).toEqual([]);
  });
});
