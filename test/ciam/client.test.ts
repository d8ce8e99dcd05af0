import { describe, expect, it } from 'vitest';
import { loadSeed } from '../../emulator/server.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import type { CiamApi } from '../../lib/ciam/types.ts';
import { createTencentClient, type TencentClient } from '../../lib/tencent/client.ts';
import { UpstreamError } from '../../lib/tencent/errors.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

interface Call {
  action: string;
  params: object;
  options: unknown;
}

/** A fake Tencent client that records calls and answers with `response`. */
const fakeTencent = (response: object = { RequestId: 'r-1' }) => {
  const calls: Call[] = [];
  const tencent: Pick<TencentClient, 'call'> = {
    call: async <T extends object>(action: string, params: object, options?: unknown) => {
      calls.push({ action, params, options });
      return response as T;
    },
  };
  return { tencent, calls };
};

const signal = new AbortController().signal;

type Case = [keyof CiamApi, string, (ciam: CiamApi) => Promise<unknown>, object];

const CASES: Case[] = [
  [
    'updateUser',
    'UpdateUser',
    (ciam) => ciam.updateUser({ UserId: 'u', UserStoreId: 's', Nickname: 'n' }, { signal }),
    { UserId: 'u', UserStoreId: 's', Nickname: 'n' },
  ],
  [
    'describeUserById',
    'DescribeUserById',
    (ciam) => ciam.describeUserById({ UserStoreId: 's', UserId: 'u', Original: true }, { signal }),
    { UserStoreId: 's', UserId: 'u', Original: true },
  ],
  [
    'listUserByProperty',
    'ListUserByProperty',
    (ciam) =>
      ciam.listUserByProperty(
        { UserStoreId: 's', PropertyCode: 'email', PropertyValue: 'a@example.com' },
        { signal },
      ),
    { UserStoreId: 's', PropertyCode: 'email', PropertyValue: 'a@example.com' },
  ],
  [
    'describeUser',
    'DescribeUser',
    (ciam) =>
      ciam.describeUser({ UserStoreId: 's', Pageable: { PageSize: 2, PageNumber: 1 } }, { signal }),
    { UserStoreId: 's', Pageable: { PageSize: 2, PageNumber: 1 } },
  ],
  [
    'listUserGroups',
    'ListUserGroups',
    (ciam) =>
      ciam.listUserGroups(
        {
          UserStoreId: 's',
          Pageable: { PageSize: 100, PageNumber: 1 },
          Filters: [{ Key: 'condition', Values: ['Staff'], Logic: true }],
        },
        { signal },
      ),
    {
      UserStoreId: 's',
      Pageable: { PageSize: 100, PageNumber: 1 },
      Filters: [{ Key: 'condition', Values: ['Staff'], Logic: true }],
    },
  ],
  [
    'listGroupMembers',
    'DescribeUser',
    (ciam) =>
      ciam.listGroupMembers(
        { UserStoreId: 's', UserGroupId: 'g', Pageable: { PageSize: 50, PageNumber: 2 } },
        { signal },
      ),
    {
      UserStoreId: 's',
      Pageable: { PageSize: 50, PageNumber: 2 },
      Filters: [{ PropertyKey: 'userGroup', PropertyValue: 'g', Logic: true, OperateLogic: '=' }],
    },
  ],
  [
    'createUser',
    'CreateUser',
    (ciam) =>
      ciam.createUser(
        { UserStoreId: 's', PhoneNumber: 'p', Email: 'e', Password: 'pw', UserName: 'n' },
        { signal },
      ),
    { UserStoreId: 's', PhoneNumber: 'p', Email: 'e', Password: 'pw', UserName: 'n' },
  ],
];

describe('ciam/client', () => {
  it.each(CASES)('%s calls %s with the request and the signal', async (_, action, run, params) => {
    const response = { User: { UserId: 'u' }, RequestId: 'r-7' };
    const { tencent, calls } = fakeTencent(response);

    await expect(run(createCiamClient(tencent))).resolves.toBe(response);

    expect(calls).toEqual([{ action, params, options: { signal } }]);
  });

  it('validates UpdateUser before calling Tencent', async () => {
    const { tencent, calls } = fakeTencent();
    const ciam = createCiamClient(tencent);
    await expect(
      ciam.updateUser({ UserId: 'u', UserStoreId: 's', IndexedAttribute1: 'x'.repeat(513) }),
    ).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
      details: [{ path: '/IndexedAttribute1', message: 'must NOT have more than 512 characters' }],
    });
    expect(calls).toHaveLength(0);
  });

  it('never reaches fetch with an invalid UpdateUser', async () => {
    const requests: unknown[] = [];
    const tencent = createTencentClient({
      fetch: async (input) => {
        requests.push(input);
        return Response.json({ Response: { RequestId: 'r' } });
      },
      now: () => 1_700_000_000_000,
      credentials: {
        get: async () => ({ secretId: 'id', secretKey: 'key' }),
        invalidate: () => {},
      },
    });
    const ciam = createCiamClient(tencent);

    await expect(ciam.updateUser({ UserId: '', UserStoreId: 's' })).rejects.toMatchObject({
      code: 'REQUEST_INVALID',
    });
    expect(requests).toHaveLength(0);

    await expect(ciam.updateUser({ UserId: 'u', UserStoreId: 's' })).resolves.toEqual({
      RequestId: 'r',
    });
    expect(requests).toHaveLength(1);
  });
});

// Three members for group-staff, so its members take two pages of two.
const seed = loadSeed('emulator/seed.json');
for (const user of seed.userStores[0]?.Users ?? []) user.UserGroups = ['group-staff'];

describe('ciam/client against the emulator', () => {
  const emulator = useEmulator({ seed }, { resetBeforeEach: true });
  const STORE = EMULATOR_USER_STORE_ID;
  const client = () =>
    createCiamClient(
      createTencentClient({
        fetch,
        now: Date.now,
        endpoint: emulator().url,
        credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
      }),
    );

  it('lists user groups, filtered by condition and paged', async () => {
    const ciam = client();
    const page2 = await ciam.listUserGroups({
      UserStoreId: STORE,
      Pageable: { PageSize: 1, PageNumber: 2 },
    });
    const filtered = await ciam.listUserGroups({
      UserStoreId: STORE,
      Pageable: { PageSize: 10, PageNumber: 1 },
      Filters: [{ Key: 'condition', Values: ['staff'], Logic: true }],
    });

    expect(page2).toMatchObject({ Total: 2, Pageable: { PageSize: 1, PageNumber: 2 } });
    expect(page2.Content.map((g) => g.DisplayName)).toEqual(['Admins']);
    expect(filtered.Total).toBe(1);
    expect(filtered.Content).toEqual([
      expect.objectContaining({ UserGroupId: 'group-staff', DisplayName: 'Staff' }),
    ]);
  });

  it('pages through a group’s members, unmasked when asked', async () => {
    const ciam = client();
    const page = (PageNumber: number) =>
      ciam.listGroupMembers({
        UserStoreId: STORE,
        UserGroupId: 'group-staff',
        Pageable: { PageSize: 2, PageNumber },
        Original: true,
      });
    const [first, second] = [await page(1), await page(2)];
    const admins = await ciam.listGroupMembers({
      UserStoreId: STORE,
      UserGroupId: 'group-admins',
      Pageable: { PageSize: 2, PageNumber: 1 },
    });

    expect([first.Total, second.Total]).toEqual([3, 3]);
    expect([...first.Content, ...second.Content].map((u) => [u.UserId, u.Email])).toEqual([
      ['demo-user-1', 'alice@example.com'],
      ['demo-user-2', 'bob@example.com'],
      ['demo-user-3', 'carol@example.com'],
    ]);
    expect(first.Content[0]).toMatchObject({
      UserGroups: ['group-staff'],
      UserGroupNames: ['Staff'],
    });
    expect(admins).toMatchObject({ Total: 0, Content: [] });
  });

  it('reports an unknown group in UpdateUser as a permanent UPSTREAM_REJECTED, tried once', async () => {
    const ciam = client();
    const error = await ciam
      .updateUser({ UserStoreId: STORE, UserId: 'demo-user-2', UserGroup: ['group-ghosts'] })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_REJECTED',
      upstreamCode: 'FailedOperation.UserGroupNotFound',
      retryClass: 'permanent',
      action: 'UpdateUser',
      details: { upstreamCode: 'FailedOperation.UserGroupNotFound' },
    });
    expect(emulator().calls.filter((c) => c.action === 'UpdateUser')).toHaveLength(1);
    expect(emulator().store.getUser(STORE, 'demo-user-2')?.UserGroups).toEqual(['group-staff']);
  });
});
