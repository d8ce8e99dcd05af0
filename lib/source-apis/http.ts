import { SourceApiError, type SourceApiErrorCode } from '../errors.ts';
import type { HttpResponse } from '../fetch.ts';
import type { SourceApiContext } from './types.ts';

/** How hard one request tries before it gives up. */
export interface RetryPolicy {
  /** 429 answers waited out per request; one more is a storm and throws SOURCE_API_RATE_LIMITED. */
  maxRateLimitRetries: number;
  /** 5xx answers and network failures retried per request before SOURCE_API_FAILED. */
  maxFailureRetries: number;
  /** Longest single wait; a source asking for more is not waited for (SOURCE_API_RATE_LIMITED). */
  maxWaitMs: number;
  /** Wait on a 429 that says nothing of when to come back, doubled on each further one. */
  defaultWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRateLimitRetries: 8,
  maxFailureRetries: 2,
  maxWaitMs: 120_000,
  defaultWaitMs: 1_000,
};

export interface SourceRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Which API and which cursor a request belongs to: every error names both. */
export interface RequestScope {
  api: string;
  cursor: string | undefined;
}

export const sourceApiError = (
  code: SourceApiErrorCode,
  scope: RequestScope,
  message: string,
  extra: { upstreamStatus?: number; cause?: unknown } = {},
): SourceApiError =>
  new SourceApiError(code, `${scope.api}: ${message}`, {
    api: scope.api,
    cursor: scope.cursor,
    ...(extra.upstreamStatus === undefined ? {} : { upstreamStatus: extra.upstreamStatus }),
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
  });

const parseSeconds = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
};

/**
 * How long a 429 asks us to wait, in ms. `Retry-After` (seconds or an HTTP date: Clerk, WorkOS)
 * first; then a reset time in epoch seconds (`X-Rate-Limit-Reset` at Okta, `x-ratelimit-reset` at
 * Auth0); undefined when neither says.
 */
export const rateLimitWaitMs = (response: HttpResponse, nowMs: number): number | undefined => {
  const retryAfter = response.headers.get('retry-after');
  const seconds = parseSeconds(retryAfter);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  if (retryAfter !== null) {
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  const reset = parseSeconds(
    response.headers.get('x-rate-limit-reset') ?? response.headers.get('x-ratelimit-reset'),
  );
  // A reset of 0 is Okta's "concurrent limit" answer: no time given.
  if (reset !== undefined && reset > 0) return Math.max(0, reset * 1000 - nowMs);
  return undefined;
};

/**
 * Frees the connection of an answer whose body is not wanted. Not awaited: only the status
 * matters, and a body stream that is slow to cancel must not hold up the listing.
 */
export const discard = (response: HttpResponse): void => {
  try {
    response.body?.cancel().catch(() => undefined);
  } catch {
    // A body that cannot be cancelled is harmless.
  }
};

export interface SourceHttp {
  /**
   * Sends one request, waiting out 429s (through the injected `sleep`) and retrying 5xx and
   * network failures a bounded number of times. Returns any other answer, for the caller to read.
   */
  send(request: SourceRequest, scope: RequestScope): Promise<HttpResponse>;
}

export interface SourceHttpOptions {
  policy?: Partial<RetryPolicy>;
  /** Least time between two requests (WorkOS: 4 requests/s per directory). */
  minIntervalMs?: number;
}

export const createSourceHttp = (
  context: SourceApiContext,
  options: SourceHttpOptions = {},
): SourceHttp => {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const minIntervalMs = options.minIntervalMs ?? 0;
  let lastSentAt: number | undefined;

  /** Set when an answer said no request is left before its reset (epoch ms). */
  let exhaustedUntil: number | undefined;

  const pace = async (signal: AbortSignal | undefined): Promise<void> => {
    if (exhaustedUntil !== undefined) {
      const wait = exhaustedUntil - context.now();
      exhaustedUntil = undefined;
      if (wait > 0 && wait <= policy.maxWaitMs) await context.sleep(wait, signal);
    }
    if (minIntervalMs <= 0) return;
    if (lastSentAt !== undefined) {
      const wait = lastSentAt + minIntervalMs - context.now();
      if (wait > 0) await context.sleep(wait, signal);
    }
    lastSentAt = context.now();
  };

  /**
   * Okta and Auth0 say on every answer how many requests are left until when: with none left,
   * the next request waits for the reset rather than spending a 429 on finding out.
   */
  const noteRemaining = (response: HttpResponse): void => {
    const remaining =
      response.headers.get('x-rate-limit-remaining') ??
      response.headers.get('x-ratelimit-remaining');
    if (remaining === null || remaining.trim() !== '0') return;
    const reset = parseSeconds(
      response.headers.get('x-rate-limit-reset') ?? response.headers.get('x-ratelimit-reset'),
    );
    if (reset !== undefined && reset > 0) exhaustedUntil = reset * 1000;
  };

  const send = async (request: SourceRequest, scope: RequestScope): Promise<HttpResponse> => {
    let rateLimited = 0;
    let failed = 0;
    for (;;) {
      await pace(request.signal);
      let response: HttpResponse;
      try {
        response = await context.fetch(request.url, {
          method: request.method ?? 'GET',
          headers: { accept: 'application/json', ...request.headers },
          ...(request.body === undefined ? {} : { body: request.body }),
          // A redirect would carry the credential elsewhere; none of these APIs needs one.
          redirect: 'manual',
          ...(request.signal === undefined ? {} : { signal: request.signal }),
        });
      } catch (cause) {
        if (request.signal?.aborted === true) throw cause;
        if (failed >= policy.maxFailureRetries) {
          throw sourceApiError('SOURCE_API_FAILED', scope, 'the API did not answer', { cause });
        }
        await context.sleep(policy.defaultWaitMs * 2 ** failed, request.signal);
        failed += 1;
        continue;
      }
      if (response.status === 429) {
        discard(response);
        const asked = rateLimitWaitMs(response, context.now());
        if (rateLimited >= policy.maxRateLimitRetries) {
          throw sourceApiError(
            'SOURCE_API_RATE_LIMITED',
            scope,
            `still rate limited after ${rateLimited} waits`,
            { upstreamStatus: 429 },
          );
        }
        const wait = asked ?? policy.defaultWaitMs * 2 ** rateLimited;
        if (wait > policy.maxWaitMs) {
          throw sourceApiError(
            'SOURCE_API_RATE_LIMITED',
            scope,
            `rate limited for ${Math.ceil(wait / 1000)} s, longer than the ${policy.maxWaitMs / 1000} s allowed`,
            { upstreamStatus: 429 },
          );
        }
        rateLimited += 1;
        await context.sleep(wait, request.signal);
        continue;
      }
      if (response.status >= 500) {
        discard(response);
        if (failed >= policy.maxFailureRetries) {
          throw sourceApiError('SOURCE_API_FAILED', scope, `the API answered ${response.status}`, {
            upstreamStatus: response.status,
          });
        }
        await context.sleep(policy.defaultWaitMs * 2 ** failed, request.signal);
        failed += 1;
        continue;
      }
      noteRemaining(response);
      if (response.status === 401 || response.status === 403) {
        discard(response);
        throw sourceApiError(
          'SOURCE_API_UNAUTHORIZED',
          scope,
          `the API refused the credential (${response.status})`,
          { upstreamStatus: response.status },
        );
      }
      return response;
    }
  };
  return { send };
};

/** Reads a 2xx JSON body; anything else (a 3xx included) is a failure of the API. */
export const readJson = async (response: HttpResponse, scope: RequestScope): Promise<unknown> => {
  if (response.status < 200 || response.status >= 300) {
    discard(response);
    throw sourceApiError('SOURCE_API_FAILED', scope, `the API answered ${response.status}`, {
      upstreamStatus: response.status,
    });
  }
  try {
    return await response.json();
  } catch (cause) {
    throw sourceApiError(
      'SOURCE_API_FAILED',
      scope,
      'the API answered with a body that is not JSON',
      {
        upstreamStatus: response.status,
        cause,
      },
    );
  }
};

/**
 * A refused page request. With a cursor, a 4xx means the source no longer takes it (each API
 * says so its own way: Auth0 and Okta 400, Clerk 422, WorkOS 400/404); without one, our own
 * request is wrong, which is a failure of the listing.
 */
export const refusedPage = async (
  response: HttpResponse,
  scope: RequestScope,
  resumed: boolean,
): Promise<SourceApiError> => {
  discard(response);
  if (resumed && response.status >= 400 && response.status < 500) {
    return sourceApiError(
      'SOURCE_CURSOR_EXPIRED',
      scope,
      `the API no longer accepts the cursor (${response.status}); list again from the start`,
      { upstreamStatus: response.status },
    );
  }
  return sourceApiError('SOURCE_API_FAILED', scope, `the API answered ${response.status}`, {
    upstreamStatus: response.status,
  });
};

/**
 * One page of a listing: a GET with the credential's `authorization` header, a refused page
 * turned into its error (an expired cursor when `resumed`), then the JSON body, with the
 * response's headers for APIs that page through them (Okta's `Link`).
 */
export const getPage = async (
  http: SourceHttp,
  page: { url: string; authorization: string; signal?: AbortSignal | undefined },
  scope: RequestScope,
  resumed: boolean,
): Promise<{ body: unknown; headers: HttpResponse['headers'] }> => {
  const response = await http.send(
    {
      url: page.url,
      headers: { authorization: page.authorization },
      ...(page.signal === undefined ? {} : { signal: page.signal }),
    },
    scope,
  );
  if (response.status >= 400) throw await refusedPage(response, scope, resumed);
  const { headers } = response;
  return { body: await readJson(response, scope), headers };
};
