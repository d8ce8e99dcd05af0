import { describe, expect, it } from 'vitest';
import type { CiamUser } from '../../lib/ciam/types.ts';
import {
  callEmulator,
  EMULATOR_USER_STORE_ID,
  errorCode,
  useEmulator,
} from '../helpers/emulator.ts';

const NOW = 1_760_000_000_123;
const STORE = EMULATOR_USER_STORE_ID;
const alice = { UserStoreId: STORE, UserId: 'demo-user-1' };

describe('emulator CIAM actions', () => {
  const emulator = useEmulator(
    { now: () => NOW, rateLimit: Number.POSITIVE_INFINITY },
    { resetBeforeEach: true },
  );
  const call = async (action: string, body: unknown) =>
    (await callEmulator(emulator().url, { action, body, timestamp: Math.floor(NOW / 1000) }))
      .Response;
  const codeOf = async (action: string, body: unknown) => errorCode(await call(action, body));
  const original = (userId: string) => emulator().store.getUser(STORE, userId);

  describe('UpdateUserStatus', () => {
    it('sets NORMAL, LOCK or FREEZE and answers only a RequestId', async () => {
      for (const Status of ['FREEZE', 'LOCK', 'NORMAL']) {
        const res = await call('UpdateUserStatus', { ...alice, Status });
        expect(errorCode(res)).toBeUndefined();
        expect(Object.keys(res)).toEqual(['RequestId']);
        expect(original('demo-user-1')).toMatchObject({ Status, LastModifiedDate: NOW });
      }
    });

    it('answers CIAM’s codes for a missing or unknown status and an unknown user', async () => {
      expect(await codeOf('UpdateUserStatus', alice)).toBe('FailedOperation.UserStatusRequired');
      expect(await codeOf('UpdateUserStatus', { ...alice, Status: 'GONE' })).toBe(
        'FailedOperation.InvalidUserStatusEnum',
      );
      expect(
        await codeOf('UpdateUserStatus', { ...alice, UserId: 'nobody', Status: 'FREEZE' }),
      ).toBe('FailedOperation.UserNotFound');
      expect(original('demo-user-1')?.Status).toBe('NORMAL');
    });
  });

  describe('UpdateUser', () => {
    it('sets provided fields, keeps omitted ones and returns the full unmasked user', async () => {
      const res = await call('UpdateUser', {
        ...alice,
        Nickname: 'Ali',
        Address: '1 Main St',
        Birthdate: 946684800000,
        UserGroup: ['group-staff', 'group-admins'],
        UserOrg: ['org-1'],
        CustomizationAttributes: [{ Name: 'tier', Value: 'gold', Type: 'STRING' }],
        IndexedAttribute2: 'second',
      });

      expect(errorCode(res)).toBeUndefined();
      expect(res.User).toEqual({
        UserId: 'demo-user-1',
        UserStoreId: STORE,
        UserName: 'alice',
        Email: 'alice@example.com',
        PhoneNumber: '+6581234567',
        IndexedAttribute1: 'ext-alice',
        IndexedAttribute2: 'second',
        Nickname: 'Ali',
        Address: '1 Main St',
        Birthdate: 946684800000,
        UserGroups: ['group-staff', 'group-admins'],
        UserGroupNames: ['Staff', 'Admins'],
        UserOrgs: ['org-1'],
        CustomAttributes: [{ Name: 'tier', Value: 'gold', Type: 'STRING' }],
        Status: 'NORMAL',
        CreatedDate: 1704067200000,
        LastModifiedDate: NOW,
      });
      expect(original('demo-user-1')).toEqual(res.User);
    });

    it('replaces lists whole rather than merging them', async () => {
      await call('UpdateUser', { ...alice, UserGroup: ['group-staff', 'group-admins'] });
      await call('UpdateUser', {
        ...alice,
        UserGroup: ['group-admins'],
        CustomizationAttributes: [{ Name: 'a', Value: '1' }],
      });
      await call('UpdateUser', { ...alice, CustomizationAttributes: [{ Name: 'b', Value: '2' }] });

      const user = original('demo-user-1') as CiamUser;
      expect(user.UserGroups).toEqual(['group-admins']);
      expect(user.CustomAttributes).toEqual([{ Name: 'b', Value: '2' }]);
    });

    it('clears a string attribute given as an empty string', async () => {
      await call('UpdateUser', { ...alice, IndexedAttribute1: '' });
      expect(original('demo-user-1')?.IndexedAttribute1).toBeUndefined();
    });

    it('accepts the user keeping its own name, email and phone', async () => {
      const code = await codeOf('UpdateUser', {
        ...alice,
        UserName: 'alice',
        Email: 'alice@example.com',
        PhoneNumber: '+6581234567',
      });
      expect(code).toBeUndefined();
    });

    it('accepts a mainland 11-digit phone number by default', async () => {
      expect(await codeOf('UpdateUser', { ...alice, PhoneNumber: '13800000000' })).toBeUndefined();
    });

    it.each<[string, Record<string, unknown>, string]>([
      [
        'the user store is unknown',
        { ...alice, UserStoreId: 'other-store' },
        'FailedOperation.InvalidUserStore',
      ],
      ['the user is unknown', { ...alice, UserId: 'nobody' }, 'FailedOperation.UserNotFound'],
      [
        'a user group is unknown',
        { ...alice, UserGroup: ['group-staff', 'group-ghosts'] },
        'FailedOperation.UserGroupNotFound',
      ],
      [
        'the user name belongs to another user',
        { ...alice, UserName: 'bob' },
        'FailedOperation.UserNameAlreadyExists',
      ],
      [
        'the email belongs to another user (any case)',
        { ...alice, Email: 'Bob@Example.com' },
        'FailedOperation.EmailAlreadyExists',
      ],
      [
        'the phone belongs to another user',
        { ...alice, PhoneNumber: '+6581234568' },
        'FailedOperation.PhoneNumberAlreadyExists',
      ],
      [
        'an indexed attribute exceeds 512 characters',
        { ...alice, IndexedAttribute5: 'x'.repeat(513) },
        'FailedOperation.IndexedAttributeTooLong',
      ],
      [
        'an indexed attribute exceeds 512 code points',
        { ...alice, IndexedAttribute1: '😀'.repeat(513) },
        'FailedOperation.IndexedAttributeTooLong',
      ],
      [
        'the phone has no country code',
        { ...alice, PhoneNumber: '81234567' },
        'FailedOperation.AttributeFormatError',
      ],
      [
        'the phone has spaces',
        { ...alice, PhoneNumber: '+65 81234567' },
        'FailedOperation.AttributeFormatError',
      ],
      [
        'the email is malformed',
        { ...alice, Email: 'alice.example.com' },
        'FailedOperation.AttributeFormatError',
      ],
      [
        'Birthdate is not an integer',
        { ...alice, Birthdate: 946684800000.5 },
        'FailedOperation.AttributeFormatError',
      ],
    ])('answers its code when %s, changing nothing', async (_, body, code) => {
      const before = original('demo-user-1');
      expect(await codeOf('UpdateUser', { ...body, Nickname: 'should-not-stick' })).toBe(code);
      expect(original('demo-user-1')).toEqual(before);
    });

    it('accepts an indexed attribute of exactly 512 characters', async () => {
      expect(
        await codeOf('UpdateUser', { ...alice, IndexedAttribute5: 'x'.repeat(512) }),
      ).toBeUndefined();
    });

    it('counts indexed attribute characters as code points: 512 astral ones fit', async () => {
      // 1024 UTF-16 units, 512 characters.
      const astral = '😀'.repeat(512);
      expect(await codeOf('UpdateUser', { ...alice, IndexedAttribute1: astral })).toBeUndefined();
      expect(original('demo-user-1')?.IndexedAttribute1).toBe(astral);
    });
  });

  describe('DescribeUserById', () => {
    it('masks phone and email unless Original is true', async () => {
      const masked = (await call('DescribeUserById', alice)).User as CiamUser;
      const plain = (await call('DescribeUserById', { ...alice, Original: true })).User as CiamUser;
      expect(masked).toMatchObject({
        PhoneNumber: '+65****4567',
        Email: 'al***@example.com',
        UserName: 'alice',
      });
      expect(plain).toMatchObject({ PhoneNumber: '+6581234567', Email: 'alice@example.com' });
    });

    it('answers UserNotFound and InvalidUserStore', async () => {
      expect(await codeOf('DescribeUserById', { ...alice, UserId: 'nobody' })).toBe(
        'FailedOperation.UserNotFound',
      );
      expect(await codeOf('DescribeUserById', { ...alice, UserStoreId: 'x' })).toBe(
        'FailedOperation.InvalidUserStore',
      );
    });
  });

  describe('ListUserByProperty', () => {
    it('finds by email and phone, masked unless Original', async () => {
      const byEmail = await call('ListUserByProperty', {
        UserStoreId: STORE,
        PropertyCode: 'email',
        PropertyValue: 'bob@example.com',
      });
      const byPhone = await call('ListUserByProperty', {
        UserStoreId: STORE,
        PropertyCode: 'phoneNumber',
        PropertyValue: '+6581234568',
        Original: true,
      });
      expect(byEmail.Users).toEqual([
        expect.objectContaining({ UserId: 'demo-user-2', Email: 'bo***@example.com' }),
      ]);
      expect(byPhone.Users).toEqual([
        expect.objectContaining({ UserId: 'demo-user-2', PhoneNumber: '+6581234568' }),
      ]);
    });

    it('answers an empty list when nothing matches', async () => {
      const res = await call('ListUserByProperty', {
        UserStoreId: STORE,
        PropertyCode: 'phoneNumber',
        PropertyValue: '+6599999999',
      });
      expect(res.Users).toEqual([]);
    });

    it('answers InvalidParameterValue for another PropertyCode', async () => {
      const code = await codeOf('ListUserByProperty', {
        UserStoreId: STORE,
        PropertyCode: 'userName',
        PropertyValue: 'bob',
      });
      expect(code).toBe('InvalidParameterValue');
    });
  });

  describe('DescribeUser', () => {
    const query = (Filters: unknown[], extra: Record<string, unknown> = {}) =>
      call('DescribeUser', {
        UserStoreId: STORE,
        Pageable: { PageSize: 10, PageNumber: 1 },
        Filters,
        ...extra,
      });
    const ids = (res: Record<string, unknown>) => (res.Content as CiamUser[]).map((u) => u.UserId);

    it('filters on indexedAttribute1 with = and !=', async () => {
      const eq = await query([
        {
          PropertyKey: 'indexedAttribute1',
          PropertyValue: 'ext-bob',
          Logic: true,
          OperateLogic: '=',
        },
      ]);
      const ne = await query([
        {
          PropertyKey: 'indexedAttribute1',
          PropertyValue: 'ext-bob',
          Logic: true,
          OperateLogic: '!=',
        },
      ]);
      expect(eq).toMatchObject({ Total: 1, Pageable: { PageSize: 10, PageNumber: 1 } });
      expect(ids(eq)).toEqual(['demo-user-2']);
      expect(ids(ne)).toEqual(['demo-user-1', 'demo-user-3']);
    });

    it('negates a filter when Logic is false', async () => {
      const res = await query([
        {
          PropertyKey: 'indexedAttribute1',
          PropertyValue: 'ext-bob',
          Logic: false,
          OperateLogic: '=',
        },
      ]);
      expect(ids(res)).toEqual(['demo-user-1', 'demo-user-3']);
    });

    it('masks results unless Original is true', async () => {
      const filter = [
        {
          PropertyKey: 'email',
          PropertyValue: 'carol@example.com',
          Logic: true,
          OperateLogic: '=',
        },
      ];
      const masked = await query(filter);
      const plain = await query(filter, { Original: true });
      expect((masked.Content as CiamUser[])[0]?.Email).toBe('ca***@example.com');
      expect((plain.Content as CiamUser[])[0]?.Email).toBe('carol@example.com');
    });

    it('pages 1-based with the total of all matches', async () => {
      const page2 = await call('DescribeUser', {
        UserStoreId: STORE,
        Pageable: { PageSize: 2, PageNumber: 2 },
      });
      expect(page2.Total).toBe(3);
      expect(ids(page2)).toEqual(['demo-user-3']);
      expect(
        await codeOf('DescribeUser', {
          UserStoreId: STORE,
          Pageable: { PageSize: 2, PageNumber: 0 },
        }),
      ).toBe('InvalidParameterValue');
    });

    it('answers QueryUsersParameterMustInWhitelist for other keys', async () => {
      const res = await query([
        { PropertyKey: 'nickname', PropertyValue: 'x', Logic: true, OperateLogic: '=' },
      ]);
      expect(errorCode(res)).toBe('FailedOperation.QueryUsersParameterMustInWhitelist');
    });

    it('filters on userGroup membership', async () => {
      await call('UpdateUser', {
        UserStoreId: STORE,
        UserId: 'demo-user-3',
        UserGroup: ['group-admins'],
      });
      const res = await query([
        { PropertyKey: 'userGroup', PropertyValue: 'group-admins', Logic: true, OperateLogic: '=' },
      ]);
      expect(ids(res)).toEqual(['demo-user-3']);
    });
  });

  describe('ListUser', () => {
    const list = (Filters: unknown[]) =>
      call('ListUser', { UserStoreId: STORE, Pageable: { PageSize: 10, PageNumber: 1 }, Filters });
    const ids = (res: Record<string, unknown>) => (res.Content as CiamUser[]).map((u) => u.UserId);

    it('searches by condition across id, name, phone and email', async () => {
      expect(ids(await list([{ Key: 'condition', Values: ['CAR'] }]))).toEqual(['demo-user-3']);
      expect(ids(await list([{ Key: 'condition', Values: ['4568'] }]))).toEqual(['demo-user-2']);
      expect(ids(await list([{ Key: 'condition', Values: ['carol'], Logic: false }]))).toEqual([
        'demo-user-1',
        'demo-user-2',
      ]);
    });

    it('filters by userGroup', async () => {
      await call('UpdateUser', { ...alice, UserGroup: ['group-staff'] });
      const res = await list([{ Key: 'userGroup', Values: ['group-staff'] }]);
      expect(res.Total).toBe(1);
      expect(ids(res)).toEqual(['demo-user-1']);
    });
  });

  describe('CreateUser', () => {
    const dave = {
      UserStoreId: STORE,
      UserName: 'dave',
      Email: 'dave@example.com',
      PhoneNumber: '+6581234569',
      Password: 'Secret-123',
    };

    it('creates a user that can then be read, without echoing the password', async () => {
      const res = await call('CreateUser', { ...dave, IndexedAttribute1: 'ext-dave' });
      const user = res.User as CiamUser;
      expect(user).toMatchObject({
        UserName: 'dave',
        Email: 'dave@example.com',
        Status: 'NORMAL',
        CreatedDate: NOW,
        LastModifiedDate: NOW,
      });
      expect(JSON.stringify(res)).not.toContain('Secret-123');
      const read = await call('DescribeUserById', {
        UserStoreId: STORE,
        UserId: user.UserId,
        Original: true,
      });
      expect(read.User).toMatchObject({ UserName: 'dave', IndexedAttribute1: 'ext-dave' });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['the email is taken', { Email: 'alice@example.com' }, 'FailedOperation.EmailAlreadyExists'],
      ['the user name is taken', { UserName: 'carol' }, 'FailedOperation.UserNameAlreadyExists'],
      [
        'the phone is taken',
        { PhoneNumber: '+6581234567' },
        'FailedOperation.PhoneNumberAlreadyExists',
      ],
      ['the email is empty', { Email: '' }, 'FailedOperation.EmailIsNull'],
      ['the password is missing', { Password: undefined }, 'MissingParameter'],
    ])('answers its code when %s', async (_, change, code) => {
      expect(await codeOf('CreateUser', { ...dave, ...change })).toBe(code);
      expect(emulator().store.listUsers(STORE)).toHaveLength(3);
    });
  });
});

describe('emulator phoneRegex option', () => {
  const emulator = useEmulator({ phoneRegex: '^\\+65\\d{8}$' });

  it('applies the configured phone rule', async () => {
    const call = (PhoneNumber: string) =>
      callEmulator(emulator().url, { action: 'UpdateUser', body: { ...alice, PhoneNumber } });
    expect(errorCode((await call('13800000000')).Response)).toBe(
      'FailedOperation.AttributeFormatError',
    );
    expect(errorCode((await call('+6590000000')).Response)).toBeUndefined();
  });
});
