import { gunzipSync } from 'node:zlib';
import type { Connection } from '../config/types.ts';
import { ConfigError, isAdapterError } from '../errors.ts';
import type { HttpResponse } from '../fetch.ts';
import { isRecord } from '../is-record.ts';
import type { SecretRef } from '../secrets/types.ts';
import type { Auth0User } from '../sources/auth0/schema.ts';
import { auth0UserToChange } from '../sources/auth0/to-changes.ts';
import { nonEmpty, toIsoTime } from '../sources/shared/values.ts';
import * as generated from '../validators/generated.js';
import { cursorNumber, cursorString, decodeCursor, encodeCursor } from './cursor.ts';
import {
  createSourceHttp,
  discard,
  type RequestScope,
  readJson,
  refusedPage,
  type SourceRequest,
  sourceApiError,
} from './http.ts';
import { listerSettings, SNAPSHOT_EVENT_TYPE, snapshotEventId, UNKNOWN_TIME } from './snapshot.ts';
import type { SourceApiContext, SourceUser, SourceUserLister } from './types.ts';

const API = 'auth0';
const MAX_PER_PAGE = 100;
/** "You can only page through the first 1000 records": beyond, only the export job lists users. */
export const AUTH0_PAGING_CAP = 1000;
/** A token is renewed this long before Auth0 says it expires, so no request carries a dead one. */
const TOKEN_MARGIN_MS = 60_000;
/** Export job polling: first wait, then each wait up to the longest, and how many polls at most. */
const POLL_FIRST_MS = 1_000;
const POLL_MAX_MS = 10_000;
const MAX_POLLS = 400;

/** What the export job writes per user: what the mapping reads, and what `raw` overrides may. */
const EXPORT_FIELDS = [
  'user_id',
  'email',
  'email_verified',
  'username',
  'phone_number',
  'given_name',
  'family_name',
  'name',
  'nickname',
  'picture',
  'user_metadata',
  'app_metadata',
  'blocked',
  'created_at',
  'updated_at',
].map((name) => ({ name }));

// The user part of the webhook's schema: a listed user is checked as an event's `data.object` is.
const validateMappedEvent = generated.auth0MappedEvent;
const isAuth0User = (user: unknown): user is Auth0User => {
  const valid = validateMappedEvent({ data: { object: user } });
  return valid === true;
};

/** The Management API credential: a machine-to-machine application with `read:users`. */
interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  audience: string;
}

const readClientCredentials = async (
  context: SourceApiContext,
  ref: SecretRef,
  base: string,
): Promise<ClientCredentials> => {
  const json = await context.secrets.getJson(ref.name);
  const clientId = nonEmpty(json.clientId);
  const clientSecret = nonEmpty(json.clientSecret);
  if (clientId === undefined || clientSecret === undefined) {
    throw new ConfigError(
      `Secret "${ref.name}" must be {"clientId", "clientSecret"} for the Auth0 Management API`,
    );
  }
  return { clientId, clientSecret, audience: nonEmpty(json.audience) ?? `${base}/api/v2/` };
};

type Auth0State =
  | { mode: 'page'; page: number }
  | { mode: 'export'; job: string | undefined; offset: number };

/**
 * Auth0 Management API. Pages of `GET /api/v2/users` (`include_totals`, `created_at` order) while
 * the tenant has at most 1,000 users, the most paging ever returns; beyond that, or once paging is
 * refused, the users export job: created, polled, its gzip NDJSON file downloaded (the link lives
 * 60 s, so it is fetched right after a fresh poll) and served page by page from memory. The
 * cursor says which: the page number, or the job id and the offset in its file (a resumed run
 * re-reads the job, which Auth0 keeps 24 h). A machine-to-machine token from client credentials
 * is cached until shortly before it expires.
 */
export const createAuth0Lister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  const {
    base,
    pageSize: perPage,
    credentials,
  } = listerSettings(connection, {
    baseUrl: undefined,
    maxPageSize: MAX_PER_PAGE,
  });
  const http = createSourceHttp(context);
  let token: { value: string; expiresAt: number } | undefined;
  /** The downloaded export, by job id: pages after the first come from here. */
  const exports = new Map<string, unknown[]>();

  const fetchToken = async (scope: RequestScope, signal?: AbortSignal): Promise<string> => {
    if (token !== undefined && context.now() < token.expiresAt - TOKEN_MARGIN_MS) {
      return token.value;
    }
    const client = await readClientCredentials(context, credentials, base);
    const response = await http.send(
      {
        url: `${base}/oauth/token`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: client.clientId,
          client_secret: client.clientSecret,
          audience: client.audience,
        }),
        ...(signal === undefined ? {} : { signal }),
      },
      scope,
    );
    if (response.status >= 400 && response.status < 500) {
      // A wrong client id or secret is `access_denied` (401/403) or `invalid_client` (400/401).
      discard(response);
      throw sourceApiError('SOURCE_API_UNAUTHORIZED', scope, 'the token endpoint refused', {
        upstreamStatus: response.status,
      });
    }
    const body = await readJson(response, scope);
    if (!isRecord(body) || typeof body.access_token !== 'string') {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the token endpoint gave no access_token');
    }
    const lifetimeS = typeof body.expires_in === 'number' ? body.expires_in : 86_400;
    token = { value: body.access_token, expiresAt: context.now() + lifetimeS * 1000 };
    return token.value;
  };

  /** A Management API call with the token; a 401 drops it and tries once with a fresh one. */
  const call = async (
    request: Omit<SourceRequest, 'headers'> & { headers?: Record<string, string> },
    scope: RequestScope,
  ): Promise<HttpResponse> => {
    for (let attempt = 0; ; attempt += 1) {
      const bearer = await fetchToken(scope, request.signal);
      try {
        return await http.send(
          { ...request, headers: { ...request.headers, authorization: `Bearer ${bearer}` } },
          scope,
        );
      } catch (error) {
        const expired =
          isAdapterError(error) &&
          error.code === 'SOURCE_API_UNAUTHORIZED' &&
          (error as { upstreamStatus?: number }).upstreamStatus === 401;
        if (!expired || attempt > 0) throw error;
        token = undefined;
      }
    }
  };

  const toSourceUser = (user: Auth0User): SourceUser => {
    const updatedAt = toIsoTime(user.updated_at) ?? toIsoTime(user.created_at) ?? UNKNOWN_TIME;
    const change = auth0UserToChange({
      connectionId: connection.id,
      eventId: snapshotEventId(user.user_id, updatedAt),
      eventType: SNAPSHOT_EVENT_TYPE,
      user,
      fallbackTime: updatedAt,
    });
    return { externalId: user.user_id, updatedAt, change };
  };

  const toSourceUsers = (rows: readonly unknown[], scope: RequestScope, from: number) =>
    rows.map((user, index) => {
      if (!isAuth0User(user)) {
        throw sourceApiError(
          'SOURCE_API_FAILED',
          scope,
          `user ${from + index} has an unexpected shape`,
        );
      }
      return toSourceUser(user);
    });

  const readExportFile = async (
    location: string,
    scope: RequestScope,
    signal?: AbortSignal,
  ): Promise<unknown[] | 'expired'> => {
    // A pre-signed link elsewhere: it carries its own authorisation, and must not get the token.
    let response: HttpResponse & { arrayBuffer?: () => Promise<ArrayBuffer> };
    try {
      response = await http.send(
        { url: location, headers: { accept: '*/*' }, ...(signal === undefined ? {} : { signal }) },
        scope,
      );
    } catch (error) {
      // The link lives 60 s; refused after that (403), a fresh poll gives a new one.
      if (isAdapterError(error) && error.code === 'SOURCE_API_UNAUTHORIZED') return 'expired';
      throw error;
    }
    if (response.status !== 200) {
      discard(response);
      throw sourceApiError(
        'SOURCE_API_FAILED',
        scope,
        `the export download answered ${response.status}`,
        {
          upstreamStatus: response.status,
        },
      );
    }
    if (response.arrayBuffer === undefined) {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the fetch in use cannot read a gzip file');
    }
    let text: string;
    try {
      const bytes = Buffer.from(await response.arrayBuffer());
      // gzip's magic bytes: Auth0 compresses the file; a plain one is read as it is.
      text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
    } catch (cause) {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the export file is not gzip', { cause });
    }
    const rows: unknown[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        rows.push(JSON.parse(line));
      } catch (cause) {
        throw sourceApiError(
          'SOURCE_API_FAILED',
          scope,
          `export line ${rows.length + 1} is not JSON`,
          {
            cause,
          },
        );
      }
    }
    return rows;
  };

  /** Creates the export job; its id goes in the cursor. */
  const createExport = async (scope: RequestScope, signal?: AbortSignal): Promise<string> => {
    const response = await call(
      {
        url: `${base}/api/v2/jobs/users-exports`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ format: 'json', fields: EXPORT_FIELDS }),
        ...(signal === undefined ? {} : { signal }),
      },
      scope,
    );
    const body = await readJson(response, scope);
    if (!isRecord(body) || typeof body.id !== 'string') {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the export job has no id');
    }
    return body.id;
  };

  /** Polls the job until it is done and downloads its file. */
  const awaitExport = async (
    job: string,
    scope: RequestScope,
    resumed: boolean,
    signal?: AbortSignal,
  ): Promise<unknown[]> => {
    let wait = POLL_FIRST_MS;
    let expiredLinks = 0;
    for (let poll = 0; poll < MAX_POLLS; poll += 1) {
      const response = await call(
        {
          url: `${base}/api/v2/jobs/${encodeURIComponent(job)}`,
          ...(signal === undefined ? {} : { signal }),
        },
        scope,
      );
      // Job data is deleted after 24 h: a resumed run then has to start again.
      if (response.status === 404 && resumed) throw await refusedPage(response, scope, true);
      const body = await readJson(response, scope);
      if (!isRecord(body)) {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the export job answer is not an object');
      }
      if (body.status === 'completed') {
        if (typeof body.location !== 'string') {
          throw sourceApiError('SOURCE_API_FAILED', scope, 'the finished export has no location');
        }
        const rows = await readExportFile(body.location, scope, signal);
        if (rows !== 'expired') return rows;
        expiredLinks += 1;
        if (expiredLinks > 1) {
          throw sourceApiError('SOURCE_API_FAILED', scope, 'the export link was refused twice');
        }
        continue;
      }
      if (body.status === 'failed') {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the export job failed');
      }
      await context.sleep(wait, signal);
      wait = Math.min(wait * 2, POLL_MAX_MS);
    }
    throw sourceApiError(
      'SOURCE_API_FAILED',
      scope,
      `the export job did not finish in ${MAX_POLLS} polls`,
    );
  };

  const exportPage = async (
    state: { job: string | undefined; offset: number },
    scope: RequestScope,
    signal?: AbortSignal,
  ) => {
    const resumed = state.job !== undefined;
    const job = state.job ?? (await createExport(scope, signal));
    let rows = exports.get(job);
    if (rows === undefined) {
      rows = await awaitExport(job, scope, resumed, signal);
      exports.clear();
      exports.set(job, rows);
    }
    const end = state.offset + perPage;
    const users = toSourceUsers(rows.slice(state.offset, end), scope, state.offset);
    return {
      users,
      next: end < rows.length ? encodeCursor(API, { mode: 'export', job, offset: end }) : undefined,
    };
  };

  const pagingPage = async (page: number, scope: RequestScope, signal?: AbortSignal) => {
    const url = new URL(`${base}/api/v2/users`);
    url.searchParams.set('page', String(page));
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('include_totals', 'true');
    url.searchParams.set('sort', 'created_at:1');
    const response = await call(
      { url: url.href, ...(signal === undefined ? {} : { signal }) },
      scope,
    );
    if (response.status === 400 && page > 0) {
      // Paging refused (the 1,000 cap, reached as the tenant grew): the export lists everyone,
      // so users already listed on earlier pages come again (the same snapshots).
      discard(response);
      return exportPage({ job: undefined, offset: 0 }, scope, signal);
    }
    if (response.status >= 400) throw await refusedPage(response, scope, false);
    const body = await readJson(response, scope);
    if (!isRecord(body) || !Array.isArray(body.users) || typeof body.total !== 'number') {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the answer has no users and total');
    }
    if (page === 0 && body.total > AUTH0_PAGING_CAP) {
      return exportPage({ job: undefined, offset: 0 }, scope, signal);
    }
    const users = toSourceUsers(body.users, scope, page * perPage);
    const seen = (page + 1) * perPage;
    const more = body.users.length === perPage && seen < body.total;
    if (!more) return { users, next: undefined };
    return {
      users,
      next:
        seen >= AUTH0_PAGING_CAP
          ? encodeCursor(API, { mode: 'export', offset: 0 })
          : encodeCursor(API, { mode: 'page', page: page + 1 }),
    };
  };

  const stateOf = (cursor: string, scope: RequestScope): Auth0State => {
    const state = decodeCursor({ ...scope, cursor });
    if (state.mode === 'page') return { mode: 'page', page: cursorNumber(state, 'page', scope) };
    return {
      mode: 'export',
      job: state.job === undefined ? undefined : cursorString(state, 'job', scope),
      offset: cursorNumber(state, 'offset', scope),
    };
  };

  return {
    async listPage(cursor, options = {}) {
      const scope: RequestScope = { api: API, cursor };
      const state: Auth0State =
        cursor === undefined ? { mode: 'page', page: 0 } : stateOf(cursor, scope);
      return state.mode === 'page'
        ? pagingPage(state.page, scope, options.signal)
        : exportPage(state, scope, options.signal);
    },
  };
};
