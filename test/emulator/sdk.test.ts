import type { LookupAddress } from 'node:dns';
import { Agent } from 'node:http';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { describe, expect, it } from 'vitest';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

type LookupCallback = (
  error: Error | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The SDK derives the signing service from the endpoint's first label, so it must talk to
 * `ciam.tencentcloudapi.com:<port>`; this agent resolves that name to the local emulator.
 */
const loopbackAgent = () =>
  new Agent({
    lookup: ((_host: string, options: { all?: boolean }, callback: LookupCallback) => {
      if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as never,
  });

const sdkClient = (port: number, credential = EMULATOR_CREDENTIALS) =>
  new CommonClient(`ciam.tencentcloudapi.com:${port}`, '2022-03-31', {
    credential,
    region: 'ap-singapore',
    profile: { httpProfile: { protocol: 'http://', agent: loopbackAgent(), reqTimeout: 10 } },
  });

const sdkErrorCode = async (promise: Promise<unknown>): Promise<string | undefined> => {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error('expected the SDK call to fail');
};

describe('emulator with the official SDK as client', () => {
  const emulator = useEmulator();

  it('applies an UpdateUser signed by the SDK and shows it in DescribeUserById', async () => {
    const client = sdkClient(emulator().port);

    const updated = await client.request('UpdateUser', {
      UserStoreId: EMULATOR_USER_STORE_ID,
      UserId: 'demo-user-1',
      Nickname: 'Ali',
      PhoneNumber: '+6590000001',
      UserGroup: ['group-staff'],
      CustomizationAttributes: [{ Name: 'tier', Value: 'gold', Type: 'STRING' }],
    });
    const read = await client.request('DescribeUserById', {
      UserStoreId: EMULATOR_USER_STORE_ID,
      UserId: 'demo-user-1',
      Original: true,
    });

    expect(updated.User).toMatchObject({ Nickname: 'Ali', PhoneNumber: '+6590000001' });
    expect(read.User).toMatchObject({
      UserId: 'demo-user-1',
      UserName: 'alice',
      Nickname: 'Ali',
      PhoneNumber: '+6590000001',
      UserGroups: ['group-staff'],
      CustomAttributes: [{ Name: 'tier', Value: 'gold', Type: 'STRING' }],
    });
    expect(typeof read.RequestId).toBe('string');
  });

  it('lists user groups for the SDK, filtered and paged', async () => {
    const client = sdkClient(emulator().port);

    const all = await client.request('ListUserGroups', {
      UserStoreId: EMULATOR_USER_STORE_ID,
      Pageable: { PageSize: 1, PageNumber: 2 },
    });
    const admins = await client.request('ListUserGroups', {
      UserStoreId: EMULATOR_USER_STORE_ID,
      Pageable: { PageSize: 10, PageNumber: 1 },
      Filters: [{ Key: 'condition', Values: ['admin'], Logic: true }],
    });

    expect(all).toMatchObject({
      Total: 2,
      Pageable: { PageSize: 1, PageNumber: 2 },
      Content: [{ UserGroupId: 'group-admins', DisplayName: 'Admins' }],
    });
    expect(admins.Total).toBe(1);
    expect(admins.Content).toEqual([
      expect.objectContaining({
        UserGroupId: 'group-admins',
        DisplayName: 'Admins',
        UserStoreId: EMULATOR_USER_STORE_ID,
      }),
    ]);
    expect(typeof admins.RequestId).toBe('string');
  });

  it('answers the SDK FailedOperation.UserGroupNotFound for an unknown group', async () => {
    const client = sdkClient(emulator().port);
    const code = await sdkErrorCode(
      client.request('UpdateUser', {
        UserStoreId: EMULATOR_USER_STORE_ID,
        UserId: 'demo-user-2',
        UserGroup: ['group-ghosts'],
      }),
    );
    expect(code).toBe('FailedOperation.UserGroupNotFound');
  });

  it('refuses a wrong SecretKey with AuthFailure.SignatureFailure', async () => {
    const client = sdkClient(emulator().port, { ...EMULATOR_CREDENTIALS, secretKey: 'wrong' });
    const code = await sdkErrorCode(
      client.request('DescribeUserById', {
        UserStoreId: EMULATOR_USER_STORE_ID,
        UserId: 'demo-user-2',
      }),
    );
    expect(code).toBe('AuthFailure.SignatureFailure');
  });

  it('refuses an unknown SecretId with AuthFailure.SecretIdNotFound', async () => {
    const client = sdkClient(emulator().port, { ...EMULATOR_CREDENTIALS, secretId: 'AKIDnobody' });
    const code = await sdkErrorCode(
      client.request('DescribeUserById', {
        UserStoreId: EMULATOR_USER_STORE_ID,
        UserId: 'demo-user-2',
      }),
    );
    expect(code).toBe('AuthFailure.SecretIdNotFound');
  });

  it('surfaces an injected http502 to the SDK as a transport error with httpCode 502', async () => {
    emulator().faults.configure({ script: ['http502'] });
    const client = sdkClient(emulator().port);
    let caught: unknown;
    try {
      await client.request('DescribeUserById', {
        UserStoreId: EMULATOR_USER_STORE_ID,
        UserId: 'demo-user-2',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ httpCode: 502 });
  });
});
