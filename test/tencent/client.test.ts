import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../lib/errors.ts';
import type { HttpFetch } from '../../lib/fetch.ts';
import { createTencentClient, type TencentClientOptions } from '../../lib/tencent/client.ts';
import type { CredentialsProvider, TencentCredentials } from '../../lib/tencent/credentials.ts';
import { signTc3 } from '../../lib/tencent/sign.ts';

const START_MS = 1_700_000_000_000;
const KEYS: TencentCredentials = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};
const ROTATED: TencentCredentials = { secretId: 'AKIDrotated', secretKey: 'rotated-key' };
const PARAMS = { UserId: 'u-1', UserStoreId: 's-1', Nickname: '李雷' };

interface Recorded {
  request: Request;
  body: string;
  signal: AbortSignal | undefined;
}

type Responder = (call: number, signal: AbortSignal | undefined) => Response | Promise<Response>;

/** Records every request (as a Request, with its exact body bytes) and answers with `respond`. */
const fakeFetch = (respond: Responder) => {
  const calls: Recorded[] = [];
  const fetch: HttpFetch = async (input, init) => {
    const request = new Request(input, init);
    calls.push({ request, body: await request.text(), signal: init?.signal ?? undefined });
    return respond(calls.length, init?.signal ?? undefined);
  };
  return { fetch, calls };
};

const ok = (response: Record<string, unknown> = {}) =>
  Response.json({ Response: { RequestId: 'req-ok', ...response } });
const fail = (code: string, requestId = 'req-err') =>
  Response.json({ Response: { Error: { Code: code, Message: 'msg' }, RequestId: requestId } });

/** Never settles on its own: only an abort of the request signal ends it. */
const waitForAbort = (signal: AbortSignal | undefined) =>
  new Promise<Response>((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

const fakeCredentials = (...versions: TencentCredentials[]) => {
  let current = 0;
  const state = { invalidations: 0, gets: 0 };
  const provider: CredentialsProvider = {
    get: async () => {
      state.gets += 1;
      return versions[Math.min(current, versions.length - 1)] ?? KEYS;
    },
    invalidate: () => {
      state.invalidations += 1;
      current += 1;
    },
  };
  return { provider, state };
};

const setup = (respond: Responder, overrides: Partial<TencentClientOptions> = {}) => {
  const { fetch, calls } = fakeFetch(respond);
  const credentials = fakeCredentials(KEYS, ROTATED);
  const sleeps: number[] = [];
  let clock = START_MS;
  const client = createTencentClient({
    fetch,
    // Each reading is 1.5 s later, so every attempt must carry a new timestamp.
    now: () => {
      clock += 1500;
      return clock;
    },
    credentials: credentials.provider,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  return { client, calls, sleeps, credentials: credentials.state };
};

const header = (call: Recorded | undefined, name: string) => call?.request.headers.get(name);

const allHeaders = (call: Recorded | undefined) => {
  const result: Record<string, string> = {};
  call?.request.headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
};

/** Recomputes the signature from what was actually sent. */
const verifies = (call: Recorded | undefined, keys: TencentCredentials, host: string) => {
  if (call === undefined) return false;
  const expected = signTc3({
    secretId: keys.secretId,
    secretKey: keys.secretKey,
    service: 'ciam',
    host,
    contentType: header(call, 'content-type') ?? '',
    body: call.body,
    timestamp: Number(header(call, 'x-tc-timestamp')),
  });
  return expected.authorization === header(call, 'authorization');
};

const rejection = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('tencent/client', () => {
  describe('requests', () => {
    it('posts the JSON body to / with the TC3 header set and returns the whole Response', async () => {
      const { client, calls } = setup(() => ok({ User: { UserId: 'u-1' } }));

      const result = await client.call('UpdateUser', PARAMS);

      expect(result).toEqual({ RequestId: 'req-ok', User: { UserId: 'u-1' } });
      expect(calls).toHaveLength(1);
      const [call] = calls;
      expect(call?.request.method).toBe('POST');
      expect(call?.request.url).toBe('https://ciam.tencentcloudapi.com/');
      expect(call?.body).toBe(JSON.stringify(PARAMS));
      expect(allHeaders(call)).toEqual({
        authorization: expect.stringMatching(/^TC3-HMAC-SHA256 Credential=AKIDz8krbs/),
        'content-type': 'application/json',
        'x-tc-action': 'UpdateUser',
        'x-tc-version': '2022-03-31',
        'x-tc-region': 'ap-singapore',
        'x-tc-timestamp': String(Math.floor((START_MS + 1500) / 1000)),
        'x-tc-language': 'en-US',
        'x-tc-requestclient': 'ciam-webhook-adapter/0.1.0',
      });
    });

    it('signs exactly the bytes and timestamp it sends', async () => {
      const { client, calls } = setup(() => ok());
      await client.call('UpdateUser', PARAMS);
      expect(header(calls[0], 'authorization')).toContain(
        `/2023-11-14/ciam/tc3_request, SignedHeaders=content-type;host, Signature=`,
      );
      expect(verifies(calls[0], KEYS, 'ciam.tencentcloudapi.com')).toBe(true);
      expect(verifies(calls[0], KEYS, 'other.tencentcloudapi.com')).toBe(false);
    });

    it('signs with its own keys when two clients alternate across UTC midnight', async () => {
      // 2023-11-14T23:59:58Z, then a second later per reading: the fourth call is on the 15th.
      const midnight = Date.UTC(2023, 10, 15);
      const clientWith = (keys: TencentCredentials) => {
        const { fetch, calls } = fakeFetch(() => ok());
        let clock = midnight - 3000;
        const client = createTencentClient({
          fetch,
          now: () => {
            clock += 1000;
            return clock;
          },
          credentials: { get: async () => keys, invalidate: () => {} },
        });
        return { client, calls };
      };
      const first = clientWith(KEYS);
      const second = clientWith(ROTATED);
      for (let i = 0; i < 4; i += 1) {
        await first.client.call('UpdateUser', PARAMS);
        await second.client.call('UpdateUser', PARAMS);
      }
      for (const [calls, keys] of [
        [first.calls, KEYS],
        [second.calls, ROTATED],
      ] as const) {
        expect(calls.map((call) => header(call, 'authorization')?.split('/')[1])).toEqual([
          '2023-11-14',
          '2023-11-14',
          '2023-11-15',
          '2023-11-15',
        ]);
        expect(calls.map((call) => verifies(call, keys, 'ciam.tencentcloudapi.com'))).toEqual([
          true,
          true,
          true,
          true,
        ]);
      }
    });

    it('sends X-TC-Token only for temporary credentials', async () => {
      const withToken = setup(() => ok(), {
        credentials: { get: async () => ({ ...KEYS, token: 'sts-token' }), invalidate: () => {} },
      });
      await withToken.client.call('DescribeUserById', {});
      expect(header(withToken.calls[0], 'x-tc-token')).toBe('sts-token');

      const withoutToken = setup(() => ok());
      await withoutToken.client.call('DescribeUserById', {});
      expect(withoutToken.calls[0]?.request.headers.has('x-tc-token')).toBe(false);
    });

    it('applies version, region, language and client overrides', async () => {
      const { client, calls } = setup(() => ok(), {
        version: '2099-01-01',
        region: 'ap-guangzhou',
        language: 'zh-CN',
        requestClient: 'test-client/1',
      });
      await client.call('ListUser', {});
      expect(header(calls[0], 'x-tc-version')).toBe('2099-01-01');
      expect(header(calls[0], 'x-tc-region')).toBe('ap-guangzhou');
      expect(header(calls[0], 'x-tc-language')).toBe('zh-CN');
      expect(header(calls[0], 'x-tc-requestclient')).toBe('test-client/1');
    });

    it.each([
      ['http://127.0.0.1:3100', '127.0.0.1', 'http://127.0.0.1:3100/'],
      ['http://localhost:3100', 'localhost', 'http://localhost:3100/'],
      ['https://ciam.intl.tencentcloudapi.com', 'ciam.intl.tencentcloudapi.com', null],
    ])('signs for service ciam and host without port at %s', async (endpoint, host, url) => {
      const { client, calls } = setup(() => ok(), { endpoint });
      await client.call('UpdateUser', PARAMS);
      expect(calls[0]?.request.url).toBe(url ?? `${endpoint}/`);
      expect(header(calls[0], 'authorization')).toContain('/ciam/tc3_request,');
      expect(verifies(calls[0], KEYS, host)).toBe(true);
    });

    it('uses the first host label as service and honours an explicit service', async () => {
      const derived = setup(() => ok(), { endpoint: 'https://cvm.tencentcloudapi.com' });
      await derived.client.call('DescribeInstances', {});
      expect(header(derived.calls[0], 'authorization')).toContain('/cvm/tc3_request,');

      const explicit = setup(() => ok(), { endpoint: 'http://127.0.0.1:9', service: 'ciamx' });
      await explicit.client.call('UpdateUser', {});
      expect(header(explicit.calls[0], 'authorization')).toContain('/ciamx/tc3_request,');
    });

    it('rejects an endpoint that is not a URL', () => {
      expect(() => setup(() => ok(), { endpoint: 'not a url' })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });
  });

  describe('errors', () => {
    it('throws permanent errors at once, keeping code and RequestId', async () => {
      const { client, calls, sleeps } = setup(() => fail('FailedOperation.UserNotFound', 'r-404'));
      const error = await rejection(client.call('UpdateUser', PARAMS));
      expect(error).toMatchObject({
        code: 'USER_NOT_FOUND',
        upstreamCode: 'FailedOperation.UserNotFound',
        requestId: 'r-404',
        retryClass: 'permanent',
        httpStatus: 200,
        action: 'UpdateUser',
      });
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('does not retry a permanent auth failure', async () => {
      const { client, calls, credentials } = setup(() => fail('AuthFailure.UnauthorizedOperation'));
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_AUTH_FAILED',
      });
      expect(calls).toHaveLength(1);
      expect(credentials.invalidations).toBe(0);
    });

    it('treats a non-200 status as a retryable transport error', async () => {
      const { client, calls } = setup(() => new Response('bad gateway', { status: 502 }));
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        upstreamCode: 'HTTP_502',
        httpStatus: 502,
        retryClass: 'retryable',
      });
      expect(calls).toHaveLength(3);
    });

    it('treats invalid JSON and a missing Response as BAD_RESPONSE', async () => {
      const invalid = setup(() => new Response('<html>', { status: 200 }), { maxAttempts: 1 });
      await expect(invalid.client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        upstreamCode: 'BAD_RESPONSE',
      });
      const missing = setup(() => Response.json({ nope: true }), { maxAttempts: 1 });
      await expect(missing.client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        upstreamCode: 'BAD_RESPONSE',
      });
      const codeless = setup(() => Response.json({ Response: { Error: {}, RequestId: 'r' } }), {
        maxAttempts: 1,
      });
      await expect(codeless.client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        upstreamCode: 'BAD_RESPONSE',
        requestId: 'r',
      });
    });

    it('reports a network failure as NETWORK', async () => {
      const { client, calls } = setup(() => Promise.reject(new TypeError('fetch failed')));
      const error = await rejection(client.call('UpdateUser', PARAMS));
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamCode: 'NETWORK' });
      expect((error as Error).cause).toBeInstanceOf(TypeError);
      expect(calls).toHaveLength(3);
    });

    it('times out each attempt and reports TIMEOUT', async () => {
      const { client, calls } = setup((_, signal) => waitForAbort(signal), {
        timeoutMs: 10,
        maxAttempts: 2,
      });
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        upstreamCode: 'TIMEOUT',
      });
      expect(calls).toHaveLength(2);
    });

    it('reports every attempt that may still land as uncertain, the last one included', async () => {
      const { client } = setup((_, signal) => waitForAbort(signal), {
        timeoutMs: 10,
        maxAttempts: 2,
      });
      let uncertain = 0;
      await rejection(
        client.call('UpdateUser', PARAMS, { onUncertainAttempt: () => (uncertain += 1) }),
      );
      expect(uncertain).toBe(2);
    });

    it('reports an attempt the caller cut off in flight as uncertain, an answered one not', async () => {
      const cutOff = new AbortController();
      const inFlight = setup((_, signal) => {
        const pending = waitForAbort(signal);
        cutOff.abort();
        return pending;
      });
      let uncertain = 0;
      await rejection(
        inFlight.client.call('UpdateUser', PARAMS, {
          signal: cutOff.signal,
          onUncertainAttempt: () => (uncertain += 1),
        }),
      );
      expect(uncertain).toBe(1);

      const answered = new AbortController();
      const late = setup(() => {
        answered.abort();
        return fail('InternalError');
      });
      await rejection(
        late.client.call('UpdateUser', PARAMS, {
          signal: answered.signal,
          onUncertainAttempt: () => (uncertain += 1),
        }),
      );
      expect(uncertain).toBe(1);
    });

    it('propagates a credentials failure without calling Tencent', async () => {
      const failure = new AdapterError('SECRET_UNAVAILABLE', 'no secret');
      const { client, calls } = setup(() => ok(), {
        credentials: { get: () => Promise.reject(failure), invalidate: () => {} },
      });
      await expect(client.call('UpdateUser', PARAMS)).rejects.toBe(failure);
      expect(calls).toHaveLength(0);
    });
  });

  describe('retries', () => {
    it.each([
      'RequestLimitExceeded',
      'RequestLimitExceeded.FrequentRequest',
      'InternalError',
      'InternalError.UnknownError',
      'ServiceUnavailable',
      'ResourceUnavailable',
      'AuthFailure.SignatureExpire',
    ])('retries %s with backoff and a fresh signature per attempt', async (code) => {
      const { client, calls, sleeps } = setup((n) => (n < 3 ? fail(code) : ok()));

      await expect(client.call('UpdateUser', PARAMS)).resolves.toEqual({ RequestId: 'req-ok' });

      expect(calls).toHaveLength(3);
      // Full jitter with random() = 0.5 over 200 ms, then 400 ms.
      expect(sleeps).toEqual([100, 200]);
      const timestamps = calls.map((call) => header(call, 'x-tc-timestamp'));
      expect(new Set(timestamps).size).toBe(3);
      expect(new Set(calls.map((call) => header(call, 'authorization'))).size).toBe(3);
      for (const call of calls) {
        expect(verifies(call, KEYS, 'ciam.tencentcloudapi.com')).toBe(true);
        expect(call.body).toBe(JSON.stringify(PARAMS));
      }
    });

    it('gives up after maxAttempts with the last upstream error', async () => {
      const { client, calls } = setup((n) =>
        fail('RequestLimitExceeded.FrequentRequest', `r-${n}`),
      );
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        statusCode: 429,
        upstreamCode: 'RequestLimitExceeded.FrequentRequest',
        requestId: 'r-3',
      });
      expect(calls).toHaveLength(3);
    });

    it('caps the backoff', async () => {
      const { client, sleeps } = setup(() => fail('InternalError'), {
        maxAttempts: 8,
        random: () => 0.999,
      });
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        upstreamCode: 'InternalError',
      });
      expect(sleeps).toEqual([199, 399, 799, 1598, 1998, 1998, 1998]);
    });

    it('makes a single attempt when maxAttempts is 1', async () => {
      const { client, calls, sleeps } = setup(() => fail('InternalError'), { maxAttempts: 1 });
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        upstreamCode: 'InternalError',
      });
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it.each([
      'AuthFailure.SecretIdNotFound',
      'AuthFailure.SignatureFailure',
      'AuthFailure.TokenFailure',
    ])('refetches credentials once after %s', async (code) => {
      const { client, calls, credentials, sleeps } = setup((n) => (n === 1 ? fail(code) : ok()));

      await expect(client.call('UpdateUser', PARAMS)).resolves.toEqual({ RequestId: 'req-ok' });

      expect(credentials.invalidations).toBe(1);
      expect(calls).toHaveLength(2);
      expect(sleeps).toEqual([]);
      expect(verifies(calls[0], KEYS, 'ciam.tencentcloudapi.com')).toBe(true);
      expect(verifies(calls[1], ROTATED, 'ciam.tencentcloudapi.com')).toBe(true);
    });

    it('gives up when the refreshed credentials fail too', async () => {
      const { client, calls, credentials } = setup((n) =>
        // A runaway refresh loop ends as NETWORK errors instead of hanging the test.
        n > 4 ? Promise.reject(new TypeError('runaway')) : fail('AuthFailure.SignatureFailure'),
      );
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        code: 'UPSTREAM_AUTH_FAILED',
        statusCode: 502,
        retryClass: 'refresh-credentials',
      });
      expect(calls).toHaveLength(2);
      expect(credentials.invalidations).toBe(1);
    });

    it('refreshes at most once per call even across other retries', async () => {
      const sequence = [
        'AuthFailure.SecretIdNotFound',
        'InternalError',
        'AuthFailure.SecretIdNotFound',
      ];
      const { client, calls, credentials } = setup((n) => fail(sequence[n - 1] ?? 'InternalError'));
      await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
        upstreamCode: 'AuthFailure.SecretIdNotFound',
      });
      expect(calls).toHaveLength(3);
      expect(credentials.invalidations).toBe(1);
    });
  });

  describe('cancellation', () => {
    it('does not call Tencent when the caller already aborted', async () => {
      const { client, calls } = setup(() => ok());
      const error = await rejection(
        client.call('UpdateUser', PARAMS, { signal: AbortSignal.abort() }),
      );
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamCode: 'ABORTED' });
      expect(calls).toHaveLength(0);
    });

    it('stops an in-flight attempt and does not retry when the caller aborts', async () => {
      const controller = new AbortController();
      const { client, calls, sleeps } = setup((_, signal) => {
        const pending = waitForAbort(signal);
        controller.abort();
        return pending;
      });
      await expect(
        client.call('UpdateUser', PARAMS, { signal: controller.signal }),
      ).rejects.toMatchObject({ upstreamCode: 'ABORTED' });
      expect(calls).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('stops waiting in backoff when the caller aborts', async () => {
      const controller = new AbortController();
      const { client, calls } = setup(() => fail('InternalError'), {
        sleep: () => {
          controller.abort();
          return new Promise<void>(() => {});
        },
      });
      await expect(
        client.call('UpdateUser', PARAMS, { signal: controller.signal }),
      ).rejects.toMatchObject({ upstreamCode: 'ABORTED' });
      expect(calls).toHaveLength(1);
    });

    it('reports a retryable error without retrying once the caller has aborted', async () => {
      const controller = new AbortController();
      const { client, calls } = setup(() => {
        controller.abort();
        return fail('InternalError');
      });
      await expect(
        client.call('UpdateUser', PARAMS, { signal: controller.signal }),
      ).rejects.toMatchObject({ upstreamCode: 'InternalError' });
      expect(calls).toHaveLength(1);
    });

    it('passes a signal combining timeout and caller signal to fetch', async () => {
      const controller = new AbortController();
      let abortedInFlight: boolean | undefined;
      const { client, calls } = setup((_, signal) => {
        controller.abort();
        abortedInFlight = signal?.aborted;
        return ok();
      });
      await client.call('UpdateUser', PARAMS, { signal: controller.signal }).catch(() => {});
      const sent = calls[0]?.signal;
      expect(sent).toBeInstanceOf(AbortSignal);
      expect(sent).not.toBe(controller.signal);
      expect(abortedInFlight).toBe(true);
    });

    describe('per-attempt signals', () => {
      /** A fetch that, like the keep-alive fetch, stops listening once it has answered. */
      const tidyFetch = (respond: (signal: AbortSignal) => Promise<Response> | Response) => {
        const signals: AbortSignal[] = [];
        const fetch: HttpFetch = async (_input, init) => {
          const signal = init?.signal as AbortSignal;
          signals.push(signal);
          return respond(signal);
        };
        return { fetch, signals };
      };
      const clientWith = (fetch: HttpFetch, timeoutMs = 5000) =>
        createTencentClient({
          fetch,
          now: () => START_MS,
          credentials: fakeCredentials(KEYS).provider,
          timeoutMs,
          maxAttempts: 1,
        });

      it('reuses the signal of an attempt that finished cleanly', async () => {
        const { fetch, signals } = tidyFetch(() => ok());
        const client = clientWith(fetch);
        await client.call('UpdateUser', PARAMS);
        await client.call('UpdateUser', PARAMS);
        expect(signals).toHaveLength(2);
        expect(signals[1]).toBe(signals[0]);
        expect(signals[1]?.aborted).toBe(false);
      });

      it('never hands the signal of a timed-out attempt to the next call', async () => {
        let first = true;
        const { fetch, signals } = tidyFetch((signal) => {
          if (!first) return ok();
          first = false;
          return waitForAbort(signal);
        });
        const client = clientWith(fetch, 10);
        await expect(client.call('UpdateUser', PARAMS)).rejects.toMatchObject({
          upstreamCode: 'TIMEOUT',
        });
        await client.call('UpdateUser', PARAMS);
        expect(signals[0]?.aborted).toBe(true);
        expect(signals[1]).not.toBe(signals[0]);
        expect(signals[1]?.aborted).toBe(false);
      });

      it('does not reuse a signal the fetch still listens to', async () => {
        const { fetch, signals } = tidyFetch((signal) => {
          signal.addEventListener('abort', () => {});
          return ok();
        });
        const client = clientWith(fetch);
        await client.call('UpdateUser', PARAMS);
        await client.call('UpdateUser', PARAMS);
        expect(signals[1]).not.toBe(signals[0]);
      });

      it('gives concurrent attempts signals of their own', async () => {
        const { fetch, signals } = tidyFetch(() => ok());
        const client = clientWith(fetch);
        await client.call('UpdateUser', PARAMS);
        await Promise.all([client.call('UpdateUser', PARAMS), client.call('UpdateUser', PARAMS)]);
        expect(new Set(signals.slice(1)).size).toBe(2);
      });
    });
  });
});
