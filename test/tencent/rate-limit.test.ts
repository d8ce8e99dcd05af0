import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { createTencentClient, type TencentClientOptions } from '../../lib/tencent/client.ts';

const credentials = {
  get: async () => ({ secretId: 'AKIDlocaldemo', secretKey: 'localdemosecret' }),
  invalidate: () => {},
};

// A fresh emulator per test: its 20/s window must not carry one test's burst into the next.
let emulator: Emulator;
beforeEach(async () => {
  emulator = await startEmulator({ port: 0, rateLimit: 20 });
});
afterEach(async () => emulator?.close());

/** A client of this test's emulator with the demo credentials; `options` sets pacing and retries. */
const clientOf = (options: Partial<TencentClientOptions>) =>
  createTencentClient({ fetch, now: Date.now, credentials, endpoint: emulator.url, ...options });

const describeUser = { UserStoreId: 'local-store', UserId: 'demo-user-1' };

describe('tencent/client rate limit', () => {
  it('paces many concurrent calls so CIAM never answers RequestLimitExceeded', async () => {
    const client = clientOf({
      maxAttempts: 1,
      rateLimit: { perSecond: 18, maxWaitMs: 10_000 },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => client.call('DescribeUserById', describeUser)),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(emulator.calls.filter((c) => c.code !== undefined)).toEqual([]);
    expect(emulator.calls).toHaveLength(30);
  });

  it('without pacing the same burst is refused by CIAM (the limit the pacing avoids)', async () => {
    const client = clientOf({
      maxAttempts: 1,
    });
    await Promise.allSettled(
      Array.from({ length: 30 }, () => client.call('DescribeUserById', describeUser)),
    );
    expect(emulator.calls.some((c) => c.code?.startsWith('RequestLimitExceeded'))).toBe(true);
  });

  it('answers 429 with Retry-After at once, without calling CIAM, when the wait is too long', async () => {
    const client = clientOf({
      rateLimit: { perSecond: 2, maxWaitMs: 100 },
    });
    const results = await Promise.allSettled([
      client.call('UpdateUser', { ...describeUser, Nickname: 'a' }),
      client.call('UpdateUser', { ...describeUser, Nickname: 'b' }),
      client.call('UpdateUser', { ...describeUser, Nickname: 'c' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    for (const result of results.slice(1)) {
      expect(result).toMatchObject({
        reason: {
          code: 'UPSTREAM_RATE_LIMITED',
          statusCode: 429,
          headers: { 'retry-after': expect.stringMatching(/^[1-9]\d*$/) },
        },
      });
    }
    expect(emulator.calls).toHaveLength(1);
  });

  it('paces each action on its own: a busy UpdateUser does not hold up a lookup', async () => {
    const client = clientOf({
      rateLimit: { perSecond: 1, maxWaitMs: 50 },
    });
    await client.call('UpdateUser', { ...describeUser, Nickname: 'x' });
    await expect(client.call('DescribeUserById', describeUser)).resolves.toMatchObject({
      User: { UserId: 'demo-user-1' },
    });
    await expect(
      client.call('UpdateUser', { ...describeUser, Nickname: 'y' }),
    ).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
  });
});
