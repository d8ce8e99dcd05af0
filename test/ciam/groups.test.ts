import { describe, expect, it } from 'vitest';
import { loadSeed } from '../../emulator/server.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { createGroupResolver, type GroupResolverOptions } from '../../lib/ciam/groups.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;

// Names that contain one another, so a `condition` search answers more than the group asked for;
// the `Team` ones run to a second page at two groups a page.
const seed = loadSeed('emulator/seed.json');
const local = seed.userStores[0];
if (local?.UserGroups === undefined) throw new Error('seed without groups');
local.UserGroups.push(
  { UserGroupId: 'group-staff-eu', DisplayName: 'Staff EU' },
  { UserGroupId: 'group-contractors', DisplayName: 'Contractors' },
  { UserGroupId: 'team-10', DisplayName: 'Team 10' },
  { UserGroupId: 'team-11', DisplayName: 'Team 11' },
  { UserGroupId: 'team-12', DisplayName: 'Team 12' },
  { UserGroupId: 'team-1', DisplayName: 'Team 1' },
);
seed.userStores.push({
  UserStoreId: 'other-store',
  UserGroups: [{ UserGroupId: 'other-staff', DisplayName: 'Staff' }],
});

describe('group resolver', () => {
  const emulator = useEmulator({ seed }, { resetBeforeEach: true });
  let clock = 1_760_000_000_000;

  const resolver = (options: Partial<GroupResolverOptions> = {}) =>
    createGroupResolver({
      ciam: createCiamClient(
        createTencentClient({
          fetch,
          now: Date.now,
          endpoint: emulator().url,
          credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
        }),
      ),
      // The cache's own clock, moved by the tests; the emulator signs and limits on real time.
      now: () => clock,
      ...options,
    });
  const lookups = () => emulator().calls.filter((c) => c.action === 'ListUserGroups').length;

  it('finds a group by its exact DisplayName only', async () => {
    const groups = resolver();
    expect(await groups.byName(STORE, 'Staff')).toBe('group-staff');
    expect(await groups.byName(STORE, 'Staff EU')).toBe('group-staff-eu');
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(await groups.byName(STORE, 'staff')).toBeUndefined();
    expect(await groups.byName(STORE, 'Sta')).toBeUndefined();
    expect(await groups.byName(STORE, 'Nobody')).toBeUndefined();
  });

  it('answers an empty name without asking CIAM', async () => {
    expect(await resolver().byName(STORE, '')).toBeUndefined();
    expect(await resolver().byId(STORE, '')).toBe(false);
    expect(lookups()).toBe(0);
  });

  it('pages on until the name turns up, and no further than the total', async () => {
    const groups = resolver({ pageSize: 2 });

    // `Team 1` matches four groups; the exact one is the fourth, on page two.
    expect(await groups.byName(STORE, 'Team 1')).toBe('team-1');
    expect(lookups()).toBe(2);

    // `Team` matches the same four and none exactly: both pages, and no empty third one.
    expect(await groups.byName(STORE, 'Team')).toBeUndefined();
    expect(lookups()).toBe(4);
  });

  it('stops at the page the name is on', async () => {
    const groups = resolver({ pageSize: 2 });
    expect(await groups.byName(STORE, 'Team 10')).toBe('team-10');
    expect(lookups()).toBe(1);
  });

  it('tells whether a group id exists, by the exact id', async () => {
    const groups = resolver();
    expect(await groups.byId(STORE, 'group-staff')).toBe(true);
    expect(await groups.byId(STORE, 'group-staff-eu')).toBe(true);
    expect(await groups.byId(STORE, 'group')).toBe(false);
    expect(await groups.byId(STORE, 'group-ghosts')).toBe(false);
    expect(await groups.byId(STORE, 'other-staff')).toBe(false);
  });

  it('keeps each user store’s groups apart', async () => {
    const groups = resolver();
    expect(await groups.byName('other-store', 'Staff')).toBe('other-staff');
    expect(await groups.byName(STORE, 'Staff')).toBe('group-staff');
    expect(await groups.byId('other-store', 'group-staff')).toBe(false);
    expect(lookups()).toBe(3);
  });

  it('caches what it found for the TTL, by name and by id alike', async () => {
    const groups = resolver({ cacheTtlSeconds: 10 });
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(await groups.byId(STORE, 'group-admins')).toBe(true);
    // `Staff EU` came back with `Staff` as a part match, so it is known too.
    expect(await groups.byName(STORE, 'Staff')).toBe('group-staff');
    expect(await groups.byName(STORE, 'Staff EU')).toBe('group-staff-eu');
    expect(await groups.byId(STORE, 'group-staff-eu')).toBe(true);
    expect(lookups()).toBe(2);

    clock += 9_999;
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(lookups()).toBe(2);

    clock += 1;
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(await groups.byId(STORE, 'group-admins')).toBe(true);
    expect(lookups()).toBe(3);
  });

  it('keeps found groups 300 seconds by default', async () => {
    const groups = resolver();
    await groups.byId(STORE, 'group-admins');
    clock += 299_999;
    await groups.byId(STORE, 'group-admins');
    expect(lookups()).toBe(1);
    clock += 1;
    await groups.byId(STORE, 'group-admins');
    expect(lookups()).toBe(2);
  });

  it('caches nothing with a TTL of 0', async () => {
    const groups = resolver({ cacheTtlSeconds: 0 });
    await groups.byName(STORE, 'Admins');
    await groups.byName(STORE, 'Admins');
    expect(lookups()).toBe(2);
  });

  it('asks again after a miss, unless misses are to be kept', async () => {
    const plain = resolver();
    expect(await plain.byName(STORE, 'Nobody')).toBeUndefined();
    expect(await plain.byName(STORE, 'Nobody')).toBeUndefined();
    expect(await plain.byId(STORE, 'group-ghosts')).toBe(false);
    expect(await plain.byId(STORE, 'group-ghosts')).toBe(false);
    expect(lookups()).toBe(4);

    const keeping = resolver({ missTtlSeconds: 30 });
    expect(await keeping.byName(STORE, 'Nobody')).toBeUndefined();
    expect(await keeping.byName(STORE, 'Nobody')).toBeUndefined();
    expect(await keeping.byId(STORE, 'group-ghosts')).toBe(false);
    expect(await keeping.byId(STORE, 'group-ghosts')).toBe(false);
    expect(lookups()).toBe(6);

    clock += 30_000;
    expect(await keeping.byName(STORE, 'Nobody')).toBeUndefined();
    expect(lookups()).toBe(7);
  });

  it('forgets one group by id: its id and the names found for it', async () => {
    const groups = resolver();
    await groups.byName(STORE, 'Staff');
    await groups.byName(STORE, 'Admins');
    expect(lookups()).toBe(2);

    groups.forget(STORE, { id: 'group-staff' });
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(lookups()).toBe(2);
    expect(await groups.byName(STORE, 'Staff')).toBe('group-staff');
    expect(lookups()).toBe(3);
    groups.forget(STORE, { id: 'group-staff' });
    expect(await groups.byId(STORE, 'group-staff')).toBe(true);
    expect(lookups()).toBe(4);
  });

  it('forgets one name, keeping the id', async () => {
    const groups = resolver();
    await groups.byName(STORE, 'Admins');
    groups.forget(STORE, { displayName: 'Admins' });
    expect(await groups.byId(STORE, 'group-admins')).toBe(true);
    expect(lookups()).toBe(1);
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(lookups()).toBe(2);
  });

  it('forgets a kept miss', async () => {
    const groups = resolver({ missTtlSeconds: 60 });
    await groups.byId(STORE, 'group-ghosts');
    groups.forget(STORE, { id: 'group-ghosts' });
    await groups.byId(STORE, 'group-ghosts');
    expect(lookups()).toBe(2);
  });

  it('forgets a whole user store, and only that one', async () => {
    const groups = resolver();
    await groups.byName(STORE, 'Admins');
    await groups.byName('other-store', 'Staff');
    groups.forget(STORE);
    expect(await groups.byName('other-store', 'Staff')).toBe('other-staff');
    expect(lookups()).toBe(2);
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(lookups()).toBe(3);
  });

  it('drops the oldest lookups beyond maxEntries', async () => {
    // Each group found takes two entries, its id and its name.
    const groups = resolver({ maxEntries: 2 });
    await groups.byName(STORE, 'Admins');
    await groups.byName(STORE, 'Contractors');
    expect(await groups.byId(STORE, 'group-contractors')).toBe(true);
    expect(lookups()).toBe(2);
    expect(await groups.byName(STORE, 'Admins')).toBe('group-admins');
    expect(lookups()).toBe(3);
  });

  it('passes CIAM’s errors on and caches nothing for them', async () => {
    const groups = resolver({ missTtlSeconds: 60 });
    await expect(groups.byName('no-such-store', 'Staff')).rejects.toMatchObject({
      code: 'UPSTREAM_SETUP_INVALID',
      upstreamCode: 'FailedOperation.InvalidUserStore',
    });
    await expect(groups.byName('no-such-store', 'Staff')).rejects.toMatchObject({
      code: 'UPSTREAM_SETUP_INVALID',
    });
    expect(lookups()).toBe(2);
  });

  it('passes the caller’s signal to CIAM', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      resolver().byName(STORE, 'Staff', { signal: controller.signal }),
    ).rejects.toMatchObject({ upstreamCode: 'ABORTED' });
    expect(lookups()).toBe(0);
  });

  it('refuses a page size that is not a positive integer', () => {
    expect(() => resolver({ pageSize: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => resolver({ pageSize: 2.5 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
