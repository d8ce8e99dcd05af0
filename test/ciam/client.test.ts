import { describe, expect, it } from 'vitest';
import { createCiamClient } from '../../lib/ciam/client.ts';
import type { CiamApi } from '../../lib/ciam/types.ts';
import { createTencentClient, type TencentClient } from '../../lib/tencent/client.ts';

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
