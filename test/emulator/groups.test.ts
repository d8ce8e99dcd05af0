import { describe, expect, it } from 'vitest';
import { loadSeed, type Seed } from '../../emulator/server.ts';
import type { CiamUser, UserGroup } from '../../lib/ciam/types.ts';
import { callEmulator, errorCode, useEmulator } from '../helpers/emulator.ts';

const NOW = 1_760_000_000_123;
const STORE = 'local-store';

/** The bundled seed plus a few groups and members, and a second store with a same-named group. */
const seed = (): Seed => {
  const base = loadSeed('emulator/seed.json');
  const store = base.userStores[0];
  if (store?.UserGroups === undefined || store.Users === undefined) throw new Error('bad seed');
  store.UserGroups.push(
    { UserGroupId: 'group-staff-eu', DisplayName: 'Staff EU' },
    { UserGroupId: 'group-contractors', DisplayName: 'Contractors', Description: 'External' },
  );
  const [alice, bob, carol] = store.Users;
  if (alice) alice.UserGroups = ['group-staff', 'group-admins'];
  if (bob) bob.UserGroups = ['group-staff'];
  if (carol) carol.UserGroups = ['group-staff', 'group-contractors'];
  base.userStores.push({
    UserStoreId: 'other-store',
    UserGroups: [{ UserGroupId: 'other-staff', DisplayName: 'Staff' }],
  });
  return base;
};

describe('emulator user groups', () => {
  const emulator = useEmulator(
    { seed: seed(), now: () => NOW, rateLimit: Number.POSITIVE_INFINITY },
    { resetBeforeEach: true },
  );
  const call = async (action: string, body: unknown) =>
    (await callEmulator(emulator().url, { action, body, timestamp: Math.floor(NOW / 1000) }))
      .Response;
  const groups = (Filters?: unknown[], Pageable = { PageSize: 10, PageNumber: 1 }) =>
    call('ListUserGroups', {
      UserStoreId: STORE,
      Pageable,
      ...(Filters === undefined ? {} : { Filters }),
    });
  const groupIds = (res: Record<string, unknown>) =>
    (res.Content as UserGroup[]).map((g) => g.UserGroupId);
  const userIds = (res: Record<string, unknown>) =>
    (res.Content as CiamUser[]).map((u) => u.UserId);

  describe('ListUserGroups', () => {
    it('lists the store’s groups in CIAM’s UserGroup shape with the total and the page', async () => {
      const res = await groups();
      expect(res.Total).toBe(4);
      expect(res.Pageable).toEqual({ PageSize: 10, PageNumber: 1 });
      expect(res.Content).toEqual([
        {
          UserGroupId: 'group-staff',
          DisplayName: 'Staff',
          Description: 'Everyone who works here',
          UserStoreId: STORE,
          TenantId: 'local-tenant',
          CreatedDate: 1704067200000,
          LastModifyDate: 1704067200000,
        },
        {
          UserGroupId: 'group-admins',
          DisplayName: 'Admins',
          Description: 'Administrators',
          UserStoreId: STORE,
          TenantId: 'local-tenant',
          CreatedDate: 1704067200000,
          LastModifyDate: 1704067200000,
        },
        {
          UserGroupId: 'group-staff-eu',
          DisplayName: 'Staff EU',
          UserStoreId: STORE,
          TenantId: 'local-tenant',
        },
        {
          UserGroupId: 'group-contractors',
          DisplayName: 'Contractors',
          Description: 'External',
          UserStoreId: STORE,
          TenantId: 'local-tenant',
        },
      ]);
      expect(typeof res.RequestId).toBe('string');
    });

    it('keeps each store’s groups apart', async () => {
      const other = await call('ListUserGroups', {
        UserStoreId: 'other-store',
        Pageable: { PageSize: 10, PageNumber: 1 },
      });
      expect(other.Total).toBe(1);
      expect(other.Content).toEqual([
        { UserGroupId: 'other-staff', DisplayName: 'Staff', UserStoreId: 'other-store' },
      ]);
    });

    it('pages 1-based, the total counting every match', async () => {
      const page2 = await groups(undefined, { PageSize: 3, PageNumber: 2 });
      const page3 = await groups(undefined, { PageSize: 3, PageNumber: 3 });
      expect(page2).toMatchObject({ Total: 4, Pageable: { PageSize: 3, PageNumber: 2 } });
      expect(groupIds(page2)).toEqual(['group-contractors']);
      expect(page3.Total).toBe(4);
      expect(groupIds(page3)).toEqual([]);
    });

    it('matches `condition` against part of a name or an id, in any case', async () => {
      expect(groupIds(await groups([{ Key: 'condition', Values: ['staff'] }]))).toEqual([
        'group-staff',
        'group-staff-eu',
      ]);
      expect(groupIds(await groups([{ Key: 'condition', Values: ['CONTRACT'] }]))).toEqual([
        'group-contractors',
      ]);
      expect(groupIds(await groups([{ Key: 'condition', Values: ['group-admins'] }]))).toEqual([
        'group-admins',
      ]);
      expect(
        groupIds(await groups([{ Key: 'condition', Values: ['admins', 'EU'], Logic: true }])),
      ).toEqual(['group-admins', 'group-staff-eu']);
      const none = await groups([{ Key: 'condition', Values: ['nobody'] }]);
      expect(none).toMatchObject({ Total: 0, Content: [] });
    });

    it('negates a filter whose Logic is false', async () => {
      expect(
        groupIds(await groups([{ Key: 'condition', Values: ['staff'], Logic: false }])),
      ).toEqual(['group-admins', 'group-contractors']);
    });

    it.each<[string, unknown, string]>([
      [
        'the user store is unknown',
        { UserStoreId: 'nope', Pageable: { PageSize: 10, PageNumber: 1 } },
        'FailedOperation.InvalidUserStore',
      ],
      ['Pageable is missing', { UserStoreId: STORE }, 'MissingParameter'],
      [
        'PageSize is 0',
        { UserStoreId: STORE, Pageable: { PageSize: 0, PageNumber: 1 } },
        'InvalidParameterValue',
      ],
      [
        'PageNumber is 0',
        { UserStoreId: STORE, Pageable: { PageSize: 10, PageNumber: 0 } },
        'InvalidParameterValue',
      ],
      [
        'a filter key is other than condition',
        {
          UserStoreId: STORE,
          Pageable: { PageSize: 10, PageNumber: 1 },
          Filters: [{ Key: 'displayName', Values: ['Staff'] }],
        },
        'InvalidParameterValue',
      ],
      [
        'a filter has no key',
        {
          UserStoreId: STORE,
          Pageable: { PageSize: 10, PageNumber: 1 },
          Filters: [{ Values: ['Staff'] }],
        },
        'MissingParameter',
      ],
      [
        'a filter is shaped as DescribeUser’s',
        {
          UserStoreId: STORE,
          Pageable: { PageSize: 10, PageNumber: 1 },
          Filters: [{ PropertyKey: 'name', PropertyValue: 'Staff' }],
        },
        'UnknownParameter',
      ],
      [
        'a parameter is unknown',
        { UserStoreId: STORE, Pageable: { PageSize: 10, PageNumber: 1 }, Original: true },
        'UnknownParameter',
      ],
    ])('answers its code when %s', async (_, body, code) => {
      expect(errorCode(await call('ListUserGroups', body))).toBe(code);
    });

    it('shows the groups through the store view', () => {
      expect(
        emulator()
          .store.listGroups(STORE)
          .map((g) => g.DisplayName),
      ).toEqual(['Staff', 'Admins', 'Staff EU', 'Contractors']);
      expect(emulator().store.listGroups('nope')).toEqual([]);
    });
  });

  describe('members of a group', () => {
    it('ListUser filters by `userGroup` and by the older key `userGroupId`, paged', async () => {
      const list = (Key: string, PageNumber: number) =>
        call('ListUser', {
          UserStoreId: STORE,
          Pageable: { PageSize: 2, PageNumber },
          Filters: [{ Key, Values: ['group-staff'] }],
        });
      for (const key of ['userGroup', 'userGroupId']) {
        const first = await list(key, 1);
        const second = await list(key, 2);
        expect(first.Total).toBe(3);
        expect(userIds(first)).toEqual(['demo-user-1', 'demo-user-2']);
        expect(second.Total).toBe(3);
        expect(userIds(second)).toEqual(['demo-user-3']);
      }
    });

    it('DescribeUser filters by userGroup, paged, and finds nobody in an unknown group', async () => {
      const describe = (value: string, PageNumber: number) =>
        call('DescribeUser', {
          UserStoreId: STORE,
          Pageable: { PageSize: 1, PageNumber },
          Filters: [
            { PropertyKey: 'userGroup', PropertyValue: value, Logic: true, OperateLogic: '=' },
          ],
        });
      const pages = [await describe('group-staff', 1), await describe('group-staff', 2)];
      expect(pages.map((p) => p.Total)).toEqual([3, 3]);
      expect(pages.flatMap(userIds)).toEqual(['demo-user-1', 'demo-user-2']);
      expect(userIds(await describe('group-contractors', 1))).toEqual(['demo-user-3']);
      expect(await describe('group-ghosts', 1)).toMatchObject({ Total: 0, Content: [] });
    });

    it('shows UserGroups with the matching UserGroupNames on every read', async () => {
      const byId = await call('DescribeUserById', {
        UserStoreId: STORE,
        UserId: 'demo-user-3',
      });
      const listed = await call('ListUser', {
        UserStoreId: STORE,
        Pageable: { PageSize: 10, PageNumber: 1 },
        Filters: [{ Key: 'userGroup', Values: ['group-admins'] }],
      });
      expect(byId.User).toMatchObject({
        UserGroups: ['group-staff', 'group-contractors'],
        UserGroupNames: ['Staff', 'Contractors'],
      });
      expect(listed.Content).toEqual([
        expect.objectContaining({
          UserId: 'demo-user-1',
          UserGroups: ['group-staff', 'group-admins'],
          UserGroupNames: ['Staff', 'Admins'],
        }),
      ]);
    });

    it('moves a user between groups with UpdateUser, and the group filters follow', async () => {
      const updated = await call('UpdateUser', {
        UserStoreId: STORE,
        UserId: 'demo-user-2',
        UserGroup: ['group-staff-eu'],
      });
      expect(updated.User).toMatchObject({
        UserGroups: ['group-staff-eu'],
        UserGroupNames: ['Staff EU'],
      });
      const staff = await call('ListUser', {
        UserStoreId: STORE,
        Pageable: { PageSize: 10, PageNumber: 1 },
        Filters: [{ Key: 'userGroup', Values: ['group-staff'] }],
      });
      expect(userIds(staff)).toEqual(['demo-user-1', 'demo-user-3']);
    });

    it('refuses an UpdateUser naming an unknown group, writing nothing', async () => {
      const before = emulator().store.getUser(STORE, 'demo-user-2');
      const res = await call('UpdateUser', {
        UserStoreId: STORE,
        UserId: 'demo-user-2',
        UserGroup: ['group-admins', 'other-staff'],
        Nickname: 'should-not-stick',
      });
      expect(res.Error).toEqual({
        Code: 'FailedOperation.UserGroupNotFound',
        Message: 'The user group does not exist.',
      });
      expect(emulator().store.getUser(STORE, 'demo-user-2')).toEqual(before);
    });

    it('refuses a CreateUser naming an unknown group, creating nobody', async () => {
      const res = await call('CreateUser', {
        UserStoreId: STORE,
        UserName: 'dave',
        Email: 'dave@example.com',
        PhoneNumber: '+6581234569',
        Password: 'Secret-123',
        UserGroup: ['group-ghosts'],
      });
      expect(errorCode(res)).toBe('FailedOperation.UserGroupNotFound');
      expect(emulator().store.listUsers(STORE)).toHaveLength(3);
    });
  });
});

describe('emulator ListUserGroups rate limit', () => {
  let clock = NOW;
  const emulator = useEmulator({ now: () => clock, rateLimit: 20 });
  const call = (action: string) =>
    callEmulator(emulator().url, {
      action,
      body: { UserStoreId: STORE, Pageable: { PageSize: 10, PageNumber: 1 } },
      timestamp: Math.floor(clock / 1000),
    });

  it('answers RequestLimitExceeded beyond 20 calls a second, counted apart from other actions', async () => {
    const results = await Promise.all(Array.from({ length: 22 }, () => call('ListUserGroups')));
    const codes = results.map((r) => errorCode(r.Response));
    expect(codes.filter((c) => c === undefined)).toHaveLength(20);
    expect(codes.filter((c) => c === 'RequestLimitExceeded')).toHaveLength(2);
    expect(errorCode((await call('DescribeUser')).Response)).toBeUndefined();

    // A second later the bucket is full again.
    clock += 1000;
    expect(errorCode((await call('ListUserGroups')).Response)).toBeUndefined();
  });
});
