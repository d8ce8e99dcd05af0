import { getEventListeners } from 'node:events';
import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { HttpFetch } from '../fetch.ts';
import { isRecord } from '../is-record.ts';
import { type AcquireOptions, createTokenBucket, type TokenBucket } from '../limit/token-bucket.ts';
import type { CredentialsProvider } from './credentials.ts';
import { UpstreamError } from './errors.ts';
import { createTc3KeyCache, signTc3 } from './sign.ts';

export interface TencentClientOptions {
  fetch: HttpFetch;
  /** Epoch milliseconds; X-TC-Timestamp is taken from it right before each attempt. */
  now: () => number;
  credentials: CredentialsProvider;
  /** Default `https://ciam.tencentcloudapi.com`. */
  endpoint?: string;
  /** Signing service. Default: the first host label, or `ciam` for an IP or `localhost` host. */
  service?: string;
  /** Default `2022-03-31`. */
  version?: string;
  /** Default `ap-singapore`, the only CIAM region. */
  region?: string;
  /** Language of Tencent's error messages. Default `en-US`. */
  language?: 'en-US' | 'zh-CN';
  /** Per attempt. Default 5000. */
  timeoutMs?: number;
  /** Attempts for retryable failures. Default 3. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1) for backoff jitter. Default Math.random. */
  random?: () => number;
  /** Default `ciam-webhook-adapter/0.1.0`. */
  requestClient?: string;
  /**
   * Paces calls per action in this instance (CIAM allows 20 requests/second per action), so many
   * concurrent deliveries wait their turn instead of each being refused and retried. A call that
   * would wait longer than `maxWaitMs` fails at once with 429 UPSTREAM_RATE_LIMITED + Retry-After.
   */
  rateLimit?: { perSecond: number; maxWaitMs?: number };
}

export interface TencentCallOptions {
  signal?: AbortSignal;
  /**
   * Called for each attempt that may have reached Tencent unanswered (TIMEOUT, NETWORK, or cut off
   * by the caller), the last one included: such a write may still land after the call returns.
   */
  onUncertainAttempt?: () => void;
}

// Sent, but no answer: Tencent may have applied it, and may still apply it after we move on.
// ABORTED here is an attempt the caller cut off in flight (one aborted before sending never gets
// this far).
const UNCERTAIN = new Set(['TIMEOUT', 'NETWORK', 'ABORTED']);

export interface TencentClient {
  /** Resolves to the whole `Response` object (including `RequestId`) or throws UpstreamError. */
  call<T extends object = Record<string, unknown>>(
    action: string,
    params: object,
    options?: TencentCallOptions,
  ): Promise<T>;
  /**
   * The request `call` would send for these params if it attempted now, signed, but not sent:
   * what `npm run explain` shows. The same serialisation and headers as every attempt of `call`.
   */
  prepare(action: string, params: object): Promise<PreparedTencentRequest>;
}

/** One request as the client sends it. `headers.Authorization` carries the signature. */
export interface PreparedTencentRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The body bytes of a call: every attempt sends and signs exactly this text. */
export const serializeParams = (params: object): string => JSON.stringify(params);

// What the official Node SDK sends; it is also exactly what we sign.
const CONTENT_TYPE = 'application/json';
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 2000;
/** As many as attempts run at once in one instance, in practice. */
const MAX_SPARE_CONTROLLERS = 16;

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

const deriveService = (hostname: string): string => {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  // The local emulator listens on 127.0.0.1 / localhost but must verify as the real service.
  if (bare === 'localhost' || isIP(bare) !== 0) return 'ciam';
  return bare.split('.')[0] ?? bare;
};

/**
 * Tencent Cloud API 3.0 client over fetch with TC3 signing, per-attempt timeout and retries by
 * {@link classifyUpstreamCode} class.
 *
 * @example
 * const tencent = createTencentClient({ fetch, now: Date.now, credentials });
 * const { User } = await tencent.call<UserResponse>('DescribeUserById', { UserStoreId, UserId });
 */
export const createTencentClient = (options: TencentClientOptions): TencentClient => {
  const endpoint = options.endpoint ?? 'https://ciam.tencentcloudapi.com';
  let url: URL;
  try {
    // API 3.0 always posts to `/`, which is also the path the signer canonicalises.
    url = new URL('/', endpoint);
  } catch (cause) {
    throw new ConfigError('Tencent endpoint is not a valid URL', { cause });
  }
  // Signed without the port, as the official SDK does; fetch sends Host (with port) itself.
  const host = url.hostname;
  const service = options.service ?? deriveService(host);
  const version = options.version ?? '2022-03-31';
  const region = options.region ?? 'ap-singapore';
  const language = options.language ?? 'en-US';
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const requestClient = options.requestClient ?? 'ciam-webhook-adapter/0.1.0';
  const { fetch, now, credentials } = options;
  // This client's own: derived keys stay with the client whose credentials they come from.
  const signingKeys = createTc3KeyCache();

  const buckets = new Map<string, TokenBucket>();
  const { rateLimit } = options;
  const pace = async (action: string, signal: AbortSignal | undefined): Promise<void> => {
    if (rateLimit === undefined) return;
    let bucket = buckets.get(action);
    if (bucket === undefined) {
      bucket = createTokenBucket({ ratePerSecond: rateLimit.perSecond, now });
      buckets.set(action, bucket);
    }
    // Added one by one: a property after a spread gives each object its own hidden class on Node 20
    // (V8 11), old-space garbage on every call.
    const acquireOptions: AcquireOptions = {};
    if (signal !== undefined) acquireOptions.signal = signal;
    if (rateLimit.maxWaitMs !== undefined) acquireOptions.maxWaitMs = rateLimit.maxWaitMs;
    await bucket.acquire(acquireOptions);
  };

  // Controllers of finished attempts, reused: Node 20 gives every new AbortSignal three hidden
  // classes of its own (it sets the prototype, then adds fields), ~1 kB of old-space garbage per
  // attempt that made young-generation GCs slow in `npm run bench`. Only a controller
  // that never aborted and that nobody listens to any more is reused, so no later attempt can
  // abort or observe an earlier one.
  const spareControllers: AbortController[] = [];
  const reuse = (controller: AbortController) => {
    if (
      !controller.signal.aborted &&
      spareControllers.length < MAX_SPARE_CONTROLLERS &&
      getEventListeners(controller.signal, 'abort').length === 0
    ) {
      spareControllers.push(controller);
    }
  };

  const aborted = (action: string, signal: AbortSignal) =>
    new UpstreamError({ upstreamCode: 'ABORTED', action, cause: signal.reason });

  const signedHeaders = async (action: string, body: string): Promise<Record<string, string>> => {
    const creds = await credentials.get();
    const timestamp = Math.floor(now() / 1000);
    const { authorization } = signTc3(
      {
        secretId: creds.secretId,
        secretKey: creds.secretKey,
        service,
        host,
        contentType: CONTENT_TYPE,
        body,
        timestamp,
      },
      signingKeys,
    );
    const headers: Record<string, string> = {
      Authorization: authorization,
      'Content-Type': CONTENT_TYPE,
      'X-TC-Action': action,
      'X-TC-Version': version,
      'X-TC-Timestamp': String(timestamp),
      'X-TC-Language': language,
      'X-TC-RequestClient': requestClient,
    };
    if (region !== '') headers['X-TC-Region'] = region;
    if (creds.token !== undefined && creds.token !== '') headers['X-TC-Token'] = creds.token;
    return headers;
  };

  const attempt = async (
    action: string,
    body: string,
    callerSignal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> => {
    const headers = await signedHeaders(action, body);

    // One controller and one cleared timer per attempt rather than AbortSignal.timeout() and
    // AbortSignal.any(): their timers outlive the call by timeoutMs and Node 20's any() keeps
    // every combined signal reachable from the caller's, so two calls per webhook left thousands
    // of live timers and signals behind (old-space growth, RSS and GC in `npm run bench`).
    const controller = spareControllers.pop() ?? new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      );
    }, timeoutMs);
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
      });
      status = response.status;
      if (status !== 200) {
        // Free the connection; the SDK also ignores non-200 bodies.
        await response.body?.cancel().catch(() => undefined);
        throw new UpstreamError({ upstreamCode: `HTTP_${status}`, action, httpStatus: status });
      }
      text = await response.text();
    } catch (cause) {
      if (cause instanceof UpstreamError) throw cause;
      if (callerSignal?.aborted) throw aborted(action, callerSignal);
      const upstreamCode = timedOut ? 'TIMEOUT' : 'NETWORK';
      throw new UpstreamError({ upstreamCode, action, cause });
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
      reuse(controller);
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new UpstreamError({ upstreamCode: 'BAD_RESPONSE', action, httpStatus: status, cause });
    }
    const envelope = isRecord(parsed) ? parsed.Response : undefined;
    if (!isRecord(envelope)) {
      throw new UpstreamError({ upstreamCode: 'BAD_RESPONSE', action, httpStatus: status });
    }
    const requestId = typeof envelope.RequestId === 'string' ? envelope.RequestId : undefined;
    if (envelope.Error !== undefined) {
      const code = isRecord(envelope.Error) ? envelope.Error.Code : undefined;
      throw new UpstreamError({
        upstreamCode: typeof code === 'string' && code !== '' ? code : 'BAD_RESPONSE',
        action,
        requestId,
        httpStatus: status,
      });
    }
    return envelope;
  };

  // Full jitter (AWS architecture blog): spreads concurrent Lambdas hitting the 20/s limit.
  const backoff = async (retry: number, signal: AbortSignal | undefined) => {
    const ms = Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry));
    if (signal === undefined) return sleep(ms);
    // The injected sleep cannot be cancelled, so stop waiting for it once the caller aborts.
    let onAbort = () => {};
    const abortedWait = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([sleep(ms), abortedWait]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };

  const call = async <T extends object>(
    action: string,
    params: object,
    callOptions: TencentCallOptions = {},
  ): Promise<T> => {
    const { signal } = callOptions;
    // Serialised once: every attempt sends and signs these exact bytes.
    const body = serializeParams(params);
    let retries = 0;
    let refreshed = false;
    for (;;) {
      if (signal?.aborted) throw aborted(action, signal);
      try {
        await pace(action, signal);
      } catch (error) {
        throw signal?.aborted ? aborted(action, signal) : error;
      }
      try {
        return (await attempt(action, body, signal)) as T;
      } catch (error) {
        if (!(error instanceof UpstreamError)) throw error;
        // A request that timed out, lost its connection or was cut off by the caller may still
        // reach Tencent and take effect, whether or not another attempt follows.
        if (UNCERTAIN.has(error.upstreamCode)) callOptions.onUncertainAttempt?.();
        // The caller has given up: report what Tencent said, but never retry past that.
        if (signal?.aborted) throw error;
        if (error.retryClass === 'refresh-credentials' && !refreshed) {
          // Once per call, on top of maxAttempts: a rotated secret needs exactly one refetch.
          refreshed = true;
          credentials.invalidate();
          continue;
        }
        if (error.retryClass !== 'retryable' || retries + 1 >= maxAttempts) throw error;
        await backoff(retries, signal);
        retries += 1;
      }
    }
  };

  const prepare = async (action: string, params: object): Promise<PreparedTencentRequest> => {
    const body = serializeParams(params);
    return { url: url.href, headers: await signedHeaders(action, body), body };
  };

  return { call, prepare };
};
