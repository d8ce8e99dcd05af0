import { describe, expect, it } from 'vitest';
import {
  callEmulator,
  EMULATOR_CREDENTIALS,
  EMULATOR_USER_STORE_ID,
  errorCode,
  useEmulator,
} from '../helpers/emulator.ts';

// The bundled seed holds two accounts: local-tenant (AKIDlocaldemo, local-store) and acme-tenant
// (AKIDacmedemo, acme-store). Each key reaches only its own account's stores.
const ACME = { secretId: 'AKIDacmedemo', secretKey: 'acmedemosecret' };
const ACME_STORE = 'acme-store';

describe('emulator tenants', () => {
  const emulator = useEmulator({}, { resetBeforeEach: true });

  it('serves each key its own account stores', async () => {
    const local = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: EMULATOR_USER_STORE_ID, UserId: 'demo-user-1' },
    });
    expect(errorCode(local.Response)).toBeUndefined();
    const acme = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: ACME_STORE, UserId: 'acme-user-1' },
      ...ACME,
    });
    expect(errorCode(acme.Response)).toBeUndefined();
    expect((acme.Response.User as { UserName?: string }).UserName).toBe('dana');
  });

  it("answers another account's store as CIAM answers a store that is not yours", async () => {
    const crossed = await callEmulator(emulator().url, {
      action: 'UpdateUser',
      body: { UserStoreId: ACME_STORE, UserId: 'acme-user-1', Nickname: 'not yours' },
    });
    expect(errorCode(crossed.Response)).toBe('FailedOperation.InvalidUserStore');
    const reverse = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: EMULATOR_USER_STORE_ID, UserId: 'demo-user-1' },
      ...ACME,
    });
    expect(errorCode(reverse.Response)).toBe('FailedOperation.InvalidUserStore');
    // Nothing was written to the other account's store.
    expect(emulator().store.getUser(ACME_STORE, 'acme-user-1')?.Nickname).toBeUndefined();
  });

  it('logs the SecretId and user store of every call', async () => {
    await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: ACME_STORE, UserId: 'acme-user-2' },
      ...ACME,
    });
    expect(emulator().calls.map(({ secretId, userStoreId }) => [secretId, userStoreId])).toEqual([
      [ACME.secretId, ACME_STORE],
    ]);
  });

  it('injects faults into one account only when told its SecretIds', async () => {
    emulator().faults.configure({ rates: { InternalError: 1 }, secretIds: [ACME.secretId] });
    const acme = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: ACME_STORE, UserId: 'acme-user-1' },
      ...ACME,
    });
    expect(errorCode(acme.Response)).toBe('InternalError');
    const local = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: EMULATOR_USER_STORE_ID, UserId: 'demo-user-1' },
      secretId: EMULATOR_CREDENTIALS.secretId,
    });
    expect(errorCode(local.Response)).toBeUndefined();
  });
});

describe('emulator tenants: rate limit', () => {
  // A stopped clock: the one-token buckets never refill during the test.
  const start = Date.now();
  const emulator = useEmulator({ rateLimit: 1, now: () => start });

  it("counts CIAM's limit per account and action", async () => {
    const describeLocal = () =>
      callEmulator(emulator().url, {
        action: 'DescribeUserById',
        body: { UserStoreId: EMULATOR_USER_STORE_ID, UserId: 'demo-user-1' },
      });
    expect(errorCode((await describeLocal()).Response)).toBeUndefined();
    expect(errorCode((await describeLocal()).Response)).toBe('RequestLimitExceeded');
    const acme = await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { UserStoreId: ACME_STORE, UserId: 'acme-user-1' },
      ...ACME,
    });
    expect(errorCode(acme.Response)).toBeUndefined();
  });
});
