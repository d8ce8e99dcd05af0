import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  type ApiUser,
  DEMO_DIRECTORY_ID,
  demoUsers,
  idOf,
  SOURCE_API_NAMES,
  type SourceApiName,
} from './source-api-users.ts';

/**
 * Local stand-ins of the sources' user APIs, on one node:http server with a path prefix per API:
 *
 * - Clerk Backend API: `GET /clerk/v1/users` (bare array; limit ≤ 500, offset, order_by,
 *   starting_after only in created_at order), `GET /clerk/v1/users/count`;
 * - WorkOS Directory Sync: `GET /workos/directory_users?directory=…|group=…` (`{data,
 *   list_metadata}`, limit ≤ 100, order, before/after), `GET /workos/directory_groups?directory=…|
 *   user=…` (the groups its users name);
 * - Auth0: `POST /auth0/oauth/token` (client credentials), `GET /auth0/api/v2/users` (page,
 *   per_page ≤ 100, include_totals, the first 1,000 users only: beyond, 400),
 *   `POST /auth0/api/v2/jobs/users-exports`, `GET /auth0/api/v2/jobs/:id`, and the export's
 *   download (gzip NDJSON, its link valid 60 s);
 * - Okta: `GET /okta/api/v1/users` (limit ≤ 200, `after`, `filter=status eq "…"`, absolute
 *   `Link` headers, DEPROVISIONED users only through a filter), `GET /okta/api/v1/users/:id`.
 *
 * Each checks its credential, and each can be told to misbehave: a 429 every k-th request, a storm
 * of n 429s, a 500 on every page after the p-th, refused cursors. Where the real API's answer to
 * a stale cursor is not documented (Clerk, WorkOS, Okta) the stand-in answers as noted below.
 */

export interface StandInFaults {
  /** Every k-th request to the API is answered 429. */
  rateLimitEvery?: number;
  /** The next n requests to the API are answered 429. */
  storm?: number;
  /** What a 429 asks for: `Retry-After` (Clerk, WorkOS) or the reset time (Auth0, Okta). */
  retryAfterSeconds?: number;
  /** After this many pages served, every page request is answered 500. */
  failAfterPages?: number;
  /** Every request carrying a cursor (and every Auth0 export job) is refused as expired. */
  cursorsExpired?: boolean;
}

export interface SourceApiStandInsOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Each API's users; default the demo users (local/source-api-users.ts). */
  users?: Partial<Record<SourceApiName, ApiUser[]>>;
  /** Epoch ms; drives token and link expiry and rate-limit reset times. */
  now?: () => number;
  credentials?: Partial<StandInCredentials>;
  /** Auth0 access token lifetime (default 86,400 s). */
  tokenLifetimeSeconds?: number;
  /** Polls of an Auth0 export job answered `processing` before it is `completed` (default 1). */
  exportPolls?: number;
  /** Okta: `Link` as repeated headers (default) or one comma-joined header. */
  oktaLinks?: 'repeated' | 'joined';
}

export interface StandInCredentials {
  clerkSecretKey: string;
  workosApiKey: string;
  workosDirectoryId: string;
  auth0ClientId: string;
  auth0ClientSecret: string;
  oktaApiToken: string;
}

/** The demo credentials, as config/local-secrets.json holds them. */
export const DEMO_CREDENTIALS: StandInCredentials = {
  clerkSecretKey: 'sk_test_localdemo',
  workosApiKey: 'sk_test_workos_localdemo',
  workosDirectoryId: DEMO_DIRECTORY_ID,
  auth0ClientId: 'local-demo-client',
  auth0ClientSecret: 'local-demo-client-secret',
  oktaApiToken: 'local-demo-okta-token',
};

export interface StandInStats {
  /** Requests received, per API (429s and refusals included). */
  requests: Record<SourceApiName, number>;
  /** 429s answered, per API. */
  rateLimited: Record<SourceApiName, number>;
  /** Pages of users served, per API. */
  pages: Record<SourceApiName, number>;
  /** Auth0: tokens issued; export jobs created; export files downloaded. */
  auth0Tokens: number;
  auth0Exports: number;
  auth0Downloads: number;
}

export interface SourceApiStandIns {
  /** `http://127.0.0.1:<port>`; each API is under `/<api>`. */
  url: string;
  /** The base URL a connection's `reconcile.api.baseUrl` names for one API. */
  baseUrl(api: SourceApiName): string;
  /** The API's users, oldest first; edit it freely (tests add, change and remove users). */
  users(api: SourceApiName): ApiUser[];
  setUsers(api: SourceApiName, users: ApiUser[]): void;
  /** Replaces the user with the same id, or appends it. */
  upsert(api: SourceApiName, user: ApiUser): void;
  remove(api: SourceApiName, id: string): void;
  fault(api: SourceApiName, faults: StandInFaults): void;
  clearFaults(api?: SourceApiName): void;
  stats(): StandInStats;
  resetStats(): void;
  close(): Promise<void>;
}

interface Job {
  id: string;
  status: 'pending' | 'processing' | 'completed';
  polls: number;
  fields: string[] | undefined;
  createdAt: string;
}

const perApi = <T>(value: () => T): Record<SourceApiName, T> =>
  Object.fromEntries(SOURCE_API_NAMES.map((api) => [api, value()])) as Record<SourceApiName, T>;

const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    ...headers,
  });
  res.end(text);
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const intParam = (value: string | null, fallback: number): number | undefined => {
  if (value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) ? n : undefined;
};

/** Oldest first, ties by id: the order every API here pages in. */
const createdMs = (api: SourceApiName, user: ApiUser): number => {
  const value = api === 'okta' ? user.created : user.created_at;
  return typeof value === 'number' ? value : Date.parse(String(value));
};

export const startSourceApiStandIns = async (
  options: SourceApiStandInsOptions = {},
): Promise<SourceApiStandIns> => {
  const now = options.now ?? Date.now;
  const credentials = { ...DEMO_CREDENTIALS, ...options.credentials };
  const seed = options.users === undefined ? demoUsers() : undefined;
  const store = perApi<ApiUser[]>(() => []);
  for (const api of SOURCE_API_NAMES) {
    store[api] = [...(options.users?.[api] ?? seed?.[api] ?? [])];
  }
  const faults = perApi<StandInFaults>(() => ({}));
  let stats: StandInStats;
  const resetStats = () => {
    stats = {
      requests: perApi(() => 0),
      rateLimited: perApi(() => 0),
      pages: perApi(() => 0),
      auth0Tokens: 0,
      auth0Exports: 0,
      auth0Downloads: 0,
    };
  };
  resetStats();
  const tokens = new Map<string, number>();
  const jobs = new Map<string, Job>();
  const downloads = new Map<string, { job: string; expiresAt: number }>();
  const tokenLifetimeS = options.tokenLifetimeSeconds ?? 86_400;
  const exportPolls = options.exportPolls ?? 1;
  let url = '';

  const sorted = (api: SourceApiName): ApiUser[] =>
    [...store[api]].sort(
      (a, b) => createdMs(api, a) - createdMs(api, b) || idOf(a).localeCompare(idOf(b)),
    );

  /** Counts the request; answers 429 when a fault says so. */
  const rateLimited = (api: SourceApiName, res: ServerResponse): boolean => {
    stats.requests[api] += 1;
    const fault = faults[api];
    const every = fault.rateLimitEvery;
    const storm = (fault.storm ?? 0) > 0;
    if (!storm && !(every !== undefined && stats.requests[api] % every === 0)) return false;
    if (storm) fault.storm = (fault.storm ?? 0) - 1;
    stats.rateLimited[api] += 1;
    const seconds = fault.retryAfterSeconds ?? 1;
    const reset = String(Math.ceil(now() / 1000) + seconds);
    switch (api) {
      case 'clerk':
        send(
          res,
          429,
          { errors: [{ message: 'Too many requests', code: 'too_many_requests' }] },
          {
            'retry-after': String(seconds),
          },
        );
        break;
      case 'workos':
        send(res, 429, 'Ratelimited', { 'retry-after': String(seconds) });
        break;
      case 'auth0':
        send(
          res,
          429,
          { statusCode: 429, error: 'Too Many Requests', message: 'Global limit has been reached' },
          { 'x-ratelimit-limit': '50', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        );
        break;
      case 'okta':
        send(
          res,
          429,
          {
            errorCode: 'E0000047',
            errorSummary: 'API call exceeded rate limit due to too many requests.',
          },
          {
            'x-rate-limit-limit': '600',
            'x-rate-limit-remaining': '0',
            'x-rate-limit-reset': reset,
          },
        );
        break;
    }
    return true;
  };

  /** A page request after `failAfterPages` pages: the source fails mid-way. */
  const failing = (api: SourceApiName, res: ServerResponse): boolean => {
    const after = faults[api].failAfterPages;
    if (after === undefined || stats.pages[api] < after) return false;
    send(res, 500, { message: 'Internal Server Error' });
    return true;
  };

  const clerk = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) => {
    if (req.headers.authorization !== `Bearer ${credentials.clerkSecretKey}`) {
      send(res, 401, {
        errors: [{ message: 'Unauthorized request', code: 'authentication_invalid' }],
      });
      return;
    }
    if (path === '/v1/users/count') {
      send(res, 200, { object: 'total_count', total_count: store.clerk.length });
      return;
    }
    if (path !== '/v1/users') {
      send(res, 404, { errors: [{ message: 'not found', code: 'resource_not_found' }] });
      return;
    }
    if (failing('clerk', res)) return;
    const invalid = (message: string) =>
      send(res, 422, {
        errors: [{ message, long_message: message, code: 'form_param_value_invalid' }],
      });
    const limit = intParam(query.get('limit'), 10);
    const offset = intParam(query.get('offset'), 0);
    if (limit === undefined || limit < 1 || limit > 500) return invalid('limit must be 1-500');
    if (offset === undefined || offset < 0) return invalid('offset must be >= 0');
    const orderBy = query.get('order_by') ?? '-created_at';
    const match = /^([+-]?)(\w+)$/.exec(orderBy);
    if (match === null) return invalid('order_by is invalid');
    const descending = match[1] === '-';
    const field = match[2];
    let users = sorted('clerk');
    if (field === 'updated_at') {
      users.sort((a, b) => Number(a.updated_at) - Number(b.updated_at));
    } else if (field !== 'created_at') {
      users.sort((a, b) =>
        String(a[field as string] ?? '').localeCompare(String(b[field as string] ?? '')),
      );
    }
    if (descending) users.reverse();
    const startingAfter = query.get('starting_after');
    if (startingAfter !== null) {
      if (field !== 'created_at') return invalid('starting_after needs created_at ordering');
      if (offset !== 0) return invalid('starting_after cannot be combined with offset');
      // Undocumented: a cursor naming a user no longer there is refused like a bad parameter.
      const at = users.findIndex((user) => user.id === startingAfter);
      if (faults.clerk.cursorsExpired === true || at < 0) {
        return invalid('starting_after does not name a user');
      }
      users = users.slice(at + 1);
    }
    stats.pages.clerk += 1;
    send(res, 200, users.slice(offset, offset + limit));
  };

  const workos = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) => {
    if (req.headers.authorization !== `Bearer ${credentials.workosApiKey}`) {
      send(res, 401, { message: 'Unauthorized', code: 'unauthorized' });
      return;
    }
    if (path !== '/directory_users' && path !== '/directory_groups') {
      send(res, 404, { message: 'Not Found' });
      return;
    }
    const invalid = (message: string) =>
      send(res, 422, { code: 'invalid_request_parameters', message, errors: [] });
    const directory = query.get('directory');
    const group = query.get('group');
    const member = query.get('user');
    if (directory === null && (path === '/directory_groups' ? member : group) === null) {
      return invalid(
        path === '/directory_groups'
          ? 'directory or user is required'
          : 'directory or group is required',
      );
    }
    if (failing('workos', res)) return;
    const limit = intParam(query.get('limit'), 10);
    if (limit === undefined || limit < 1 || limit > 100) return invalid('limit must be 1-100');
    const order = query.get('order') ?? 'desc';
    const groupsOf = (user: ApiUser): ApiUser[] =>
      Array.isArray(user.groups) ? (user.groups as ApiUser[]) : [];
    let items: ApiUser[];
    if (path === '/directory_users') {
      items = sorted('workos').filter(
        (user) =>
          (directory === null || user.directory_id === directory) &&
          (group === null || groupsOf(user).some((g) => g.id === group)),
      );
    } else {
      // Groups are the ones the users name (the deprecated `groups` of a directory user).
      const byId = new Map<string, ApiUser>();
      for (const user of sorted('workos')) {
        if (directory !== null && user.directory_id !== directory) continue;
        if (member !== null && user.id !== member) continue;
        for (const g of groupsOf(user)) {
          byId.set(String(g.id), {
            object: 'directory_group',
            idp_id: `00g${String(g.id)}`,
            directory_id: user.directory_id,
            organization_id: user.organization_id,
            raw_attributes: {},
            created_at: '2024-01-01T00:00:00.000Z',
            updated_at: '2024-01-01T00:00:00.000Z',
            ...g,
          });
        }
      }
      items = [...byId.values()].sort((x, y) => String(x.id).localeCompare(String(y.id)));
    }
    if (order !== 'asc') items.reverse();
    const after = query.get('after');
    const before = query.get('before');
    const cursor = after ?? before;
    if (cursor !== null) {
      const at = items.findIndex((item) => item.id === cursor);
      // Undocumented: an `after` naming an object no longer there is refused as invalid.
      if (faults.workos.cursorsExpired === true || at < 0) {
        send(res, 400, { code: 'invalid_pagination_cursor', message: `Invalid cursor: ${cursor}` });
        return;
      }
      items = after !== null ? items.slice(at + 1) : items.slice(0, at);
    }
    const backwards = after === null && before !== null;
    const page = backwards ? items.slice(-limit) : items.slice(0, limit);
    stats.pages.workos += 1;
    send(res, 200, {
      object: 'list',
      data: page,
      list_metadata: {
        before: cursor === null || page.length === 0 ? null : (page[0]?.id ?? null),
        after: items.length > limit ? (page.at(-1)?.id ?? null) : null,
      },
    });
  };

  const auth0Error = (
    res: ServerResponse,
    status: number,
    error: string,
    message: string,
    extra = {},
  ) => send(res, status, { statusCode: status, error, message, ...extra });

  const auth0 = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) => {
    if (path.startsWith('/__downloads/')) {
      const link = downloads.get(path.slice('/__downloads/'.length));
      const job = link === undefined ? undefined : jobs.get(link.job);
      if (link === undefined || job === undefined || now() >= link.expiresAt) {
        // As a pre-signed S3 link answers once it has expired.
        send(
          res,
          403,
          '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
        );
        return;
      }
      stats.auth0Downloads += 1;
      const fields = job.fields;
      const lines = sorted('auth0').map((user) =>
        JSON.stringify(
          fields === undefined
            ? user
            : Object.fromEntries(fields.filter((f) => f in user).map((f) => [f, user[f]])),
        ),
      );
      const file = gzipSync(Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'));
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': file.length });
      res.end(file);
      return;
    }
    if (path === '/oauth/token' && req.method === 'POST') {
      const text = await readBody(req);
      let body: Record<string, unknown> = {};
      try {
        body = (req.headers['content-type'] ?? '').includes('json')
          ? (JSON.parse(text) as Record<string, unknown>)
          : Object.fromEntries(new URLSearchParams(text));
      } catch {
        send(res, 400, { error: 'invalid_request', error_description: 'body is not JSON' });
        return;
      }
      if (body.grant_type !== 'client_credentials') {
        send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type' });
        return;
      }
      if (
        body.client_id !== credentials.auth0ClientId ||
        body.client_secret !== credentials.auth0ClientSecret
      ) {
        send(res, 401, { error: 'access_denied', error_description: 'Unauthorized' });
        return;
      }
      if (typeof body.audience !== 'string' || !body.audience.endsWith('/auth0/api/v2/')) {
        send(res, 403, { error: 'access_denied', error_description: 'Service not found' });
        return;
      }
      const token = `local.${randomUUID()}`;
      tokens.set(token, now() + tokenLifetimeS * 1000);
      stats.auth0Tokens += 1;
      send(res, 200, {
        access_token: token,
        scope: 'read:users',
        expires_in: tokenLifetimeS,
        token_type: 'Bearer',
      });
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const expiresAt = bearer === undefined ? undefined : tokens.get(bearer);
    if (expiresAt === undefined) {
      auth0Error(res, 401, 'Unauthorized', 'Invalid token');
      return;
    }
    if (now() >= expiresAt) {
      auth0Error(res, 401, 'Unauthorized', 'Expired token received for JSON Web Token validation');
      return;
    }
    if (path === '/api/v2/users' && req.method === 'GET') {
      if (failing('auth0', res)) return;
      const page = intParam(query.get('page'), 0);
      const perPage = intParam(query.get('per_page'), 50);
      if (page === undefined || page < 0 || perPage === undefined || perPage < 1 || perPage > 100) {
        auth0Error(res, 400, 'Bad Request', 'Query validation error: page or per_page', {
          errorCode: 'invalid_query_string',
        });
        return;
      }
      if ((page + 1) * perPage > 1000) {
        auth0Error(
          res,
          400,
          'Bad Request',
          'You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation',
          { errorCode: 'invalid_paging' },
        );
        return;
      }
      const all = sorted('auth0');
      if ((query.get('sort') ?? '').endsWith(':-1')) all.reverse();
      const users = all.slice(page * perPage, (page + 1) * perPage);
      stats.pages.auth0 += 1;
      if (query.get('include_totals') === 'true') {
        send(res, 200, {
          start: page * perPage,
          limit: perPage,
          length: users.length,
          total: all.length,
          users,
        });
      } else {
        send(res, 200, users);
      }
      return;
    }
    if (path === '/api/v2/jobs/users-exports' && req.method === 'POST') {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse((await readBody(req)) || '{}') as Record<string, unknown>;
      } catch {
        auth0Error(res, 400, 'Bad Request', 'Payload validation error: invalid JSON');
        return;
      }
      const fields = Array.isArray(body.fields)
        ? body.fields.flatMap((f: unknown) =>
            typeof f === 'object' &&
            f !== null &&
            typeof (f as { name?: unknown }).name === 'string'
              ? [(f as { name: string }).name]
              : [],
          )
        : undefined;
      const job: Job = {
        id: `job_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        status: 'pending',
        polls: 0,
        fields,
        createdAt: new Date(now()).toISOString(),
      };
      jobs.set(job.id, job);
      stats.auth0Exports += 1;
      send(res, 201, {
        type: 'users_export',
        status: job.status,
        format: body.format ?? 'csv',
        fields: body.fields,
        created_at: job.createdAt,
        id: job.id,
      });
      return;
    }
    const jobMatch = /^\/api\/v2\/jobs\/([^/]+)$/.exec(path);
    if (jobMatch !== null && req.method === 'GET') {
      const job = jobs.get(decodeURIComponent(jobMatch[1] as string));
      if (job === undefined || faults.auth0.cursorsExpired === true) {
        auth0Error(res, 404, 'Not Found', 'The job does not exist.', {
          errorCode: 'inexistent_job',
        });
        return;
      }
      job.polls += 1;
      if (job.status !== 'completed')
        job.status = job.polls > exportPolls ? 'completed' : 'processing';
      const answer: Record<string, unknown> = {
        type: 'users_export',
        status: job.status,
        format: 'json',
        created_at: job.createdAt,
        id: job.id,
      };
      if (job.status === 'completed') {
        const link = randomUUID();
        downloads.set(link, { job: job.id, expiresAt: now() + 60_000 });
        answer.location = `${url}/auth0/__downloads/${link}`;
      } else {
        answer.percentage_done = 50;
        answer.time_left_seconds = 1;
      }
      send(res, 200, answer);
      return;
    }
    auth0Error(res, 404, 'Not Found', 'Not Found');
  };

  const okta = (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
  ) => {
    const limits = {
      'x-rate-limit-limit': '600',
      'x-rate-limit-remaining': '599',
      'x-rate-limit-reset': String(Math.ceil(now() / 1000) + 60),
    };
    if (req.headers.authorization !== `SSWS ${credentials.oktaApiToken}`) {
      send(res, 401, {
        errorCode: 'E0000011',
        errorSummary: 'Invalid token provided',
        errorCauses: [],
      });
      return;
    }
    const one = /^\/api\/v1\/users\/([^/]+)$/.exec(path);
    if (one !== null) {
      const id = decodeURIComponent(one[1] as string);
      const user = store.okta.find((u) => u.id === id);
      if (user === undefined) {
        send(
          res,
          404,
          { errorCode: 'E0000007', errorSummary: `Not found: Resource not found: ${id} (User)` },
          limits,
        );
      } else {
        send(res, 200, user, limits);
      }
      return;
    }
    if (path !== '/api/v1/users') {
      send(res, 404, {
        errorCode: 'E0000022',
        errorSummary: 'The endpoint does not support the provided HTTP method',
      });
      return;
    }
    if (failing('okta', res)) return;
    const invalid = (summary: string) =>
      send(res, 400, { errorCode: 'E0000031', errorSummary: summary, errorCauses: [] }, limits);
    const limit = Math.min(intParam(query.get('limit'), 200) ?? 200, 200);
    if (limit < 1) return invalid('Invalid limit');
    const filter = query.get('filter');
    let users = sorted('okta');
    if (filter === null) {
      // The plain list leaves DEPROVISIONED users out.
      users = users.filter((user) => user.status !== 'DEPROVISIONED');
    } else {
      const status = /^status eq "([A-Z_]+)"$/.exec(filter)?.[1];
      if (status === undefined) return invalid('Invalid search criteria.');
      users = users.filter((user) => user.status === status);
    }
    const after = query.get('after');
    if (after !== null) {
      const at = users.findIndex((user) => user.id === after);
      // Undocumented: a stale `after` is answered as an invalid request.
      if (faults.okta.cursorsExpired === true || at < 0) return invalid('Invalid after cursor.');
      users = users.slice(at + 1);
    }
    const page = users.slice(0, limit);
    const host = req.headers.host ?? new URL(url).host;
    const link = (params: URLSearchParams) => `<http://${host}/okta/api/v1/users?${params}>`;
    const self = new URLSearchParams(query);
    const links = [`${link(self)}; rel="self"`];
    if (users.length > limit) {
      const next = new URLSearchParams(query);
      next.set('after', String(page.at(-1)?.id));
      next.set('limit', String(limit));
      links.push(`${link(next)}; rel="next"`);
    }
    stats.pages.okta += 1;
    send(res, 200, page, {
      ...limits,
      link: options.oktaLinks === 'joined' ? links.join(', ') : links,
    });
  };

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://stand-in');
    const [, prefix = '', ...rest] = target.pathname.split('/');
    const path = `/${rest.join('/')}`;
    const api = SOURCE_API_NAMES.find((name) => name === prefix);
    if (api === undefined) {
      send(res, 404, { message: `no stand-in at ${target.pathname}` });
      return;
    }
    // The export download is a pre-signed link elsewhere: no rate limits, counted on its own.
    if (!(api === 'auth0' && path.startsWith('/__downloads/')) && rateLimited(api, res)) return;
    const handle = { clerk, workos, auth0, okta }[api];
    Promise.resolve(handle(req, res, path, target.searchParams)).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: String(error) });
    });
  });

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  return {
    url,
    baseUrl: (api) => `${url}/${api}`,
    users: (api) => store[api],
    setUsers: (api, users) => {
      store[api] = [...users];
    },
    upsert: (api, user) => {
      const at = store[api].findIndex((u) => idOf(u) === idOf(user));
      if (at < 0) store[api].push(user);
      else store[api][at] = user;
    },
    remove: (api, id) => {
      store[api] = store[api].filter((u) => idOf(u) !== id);
    },
    fault: (api, next) => {
      faults[api] = { ...faults[api], ...next };
    },
    clearFaults: (api) => {
      for (const name of api === undefined ? SOURCE_API_NAMES : [api]) faults[name] = {};
    },
    stats: () => structuredClone(stats),
    resetStats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
