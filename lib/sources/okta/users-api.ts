import { AdapterError } from '../../errors.ts';
import type { HttpFetch, HttpResponse } from '../../fetch.ts';
import { type OktaUser, validateOktaUser } from './schema.ts';

export interface OktaUsersRequest {
  /** Origin of the Okta org, no trailing slash. */
  orgUrl: string;
  apiToken: string;
  /** One deadline for the whole delivery: Okta's own hook timeout is 3 s end to end. */
  timeoutMs: number;
  fetch: HttpFetch;
  signal?: AbortSignal;
}

/** Profiles by Okta user id; `null` marks a user Okta no longer has (404). */
export type OktaUsers = ReadonlyMap<string, OktaUser | null>;

/** Small on purpose: Okta rate-limits `/api/v1/users/{id}` per org. */
const CONCURRENCY = 4;

// Okta retries a failed delivery once; the table's short Retry-After keeps that retry useful.
const unavailable = (message: string, cause?: unknown): AdapterError =>
  new AdapterError('SOURCE_UNAVAILABLE', message, cause === undefined ? {} : { cause });

const rejected = (message: string): AdapterError => new AdapterError('SOURCE_REJECTED', message);

const discardBody = async (response: HttpResponse): Promise<void> => {
  try {
    await response.body?.cancel();
  } catch {
    // The status is all that matters; a body that cannot be cancelled is harmless.
  }
};

const fetchUser = async (
  id: string,
  request: OktaUsersRequest,
  signal: AbortSignal,
): Promise<OktaUser | null> => {
  let response: HttpResponse;
  try {
    response = await request.fetch(`${request.orgUrl}/api/v1/users/${encodeURIComponent(id)}`, {
      method: 'GET',
      headers: { authorization: `SSWS ${request.apiToken}`, accept: 'application/json' },
      // A redirect would carry the API token elsewhere; an Okta org never needs one here.
      redirect: 'manual',
      signal,
    });
  } catch (cause) {
    throw unavailable('Okta Users API did not answer', cause);
  }
  if (response.status === 200) {
    let body: unknown;
    try {
      body = await response.json();
    } catch (cause) {
      if (signal.aborted) throw unavailable('Okta Users API did not answer', cause);
      throw rejected('Okta Users API returned a body that is not JSON');
    }
    if (!validateOktaUser(body)) throw rejected('Okta Users API returned an unexpected user shape');
    return body;
  }
  await discardBody(response);
  if (response.status === 404) return null;
  if (response.status === 429 || response.status >= 500) {
    throw unavailable(`Okta Users API answered ${response.status}`);
  }
  // 401/403: the API token is wrong or lacks rights; retrying will not help.
  throw rejected(`Okta Users API answered ${response.status}`);
};

/**
 * Fetches each distinct user once. The first failure aborts the requests still in flight, since
 * the delivery fails as a whole and Okta retries it as a whole.
 */
export const fetchOktaUsers = async (
  ids: readonly string[],
  request: OktaUsersRequest,
): Promise<OktaUsers> => {
  const users = new Map<string, OktaUser | null>();
  if (ids.length === 0) return users;
  // One controller and one cleared timer rather than AbortSignal.timeout() and AbortSignal.any():
  // on Node 20 their timers outlive the call and any() keeps every combined signal reachable
  // from the caller's, old-space garbage per delivery (as in lib/tencent/client.ts).
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      ),
    request.timeoutMs,
  );
  const caller = request.signal;
  const onCallerAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted === true) onCallerAbort();
  else caller?.addEventListener('abort', onCallerAbort, { once: true });
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < ids.length; index = next++) {
      const id = ids[index] as string;
      users.set(id, await fetchUser(id, request, signal));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
  } catch (error) {
    controller.abort();
    throw error;
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener('abort', onCallerAbort);
  }
  return users;
};
