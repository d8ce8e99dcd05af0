import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { HttpFetch } from '../../lib/fetch.ts';
import { createSourceUserLister } from '../../lib/source-apis/index.ts';
import type { SourceApiName } from '../../local/source-api-users.ts';
import type { SourceApiStandIns } from '../../local/source-apis.ts';
import {
  fakeClock,
  rejection,
  standInConnection,
  standInContext,
  standInSecrets,
} from '../helpers/source-apis.ts';

/**
 * What the listers do with answers no stand-in gives on purpose: no answer at all, bodies of the
 * wrong shape, a wait too long to honour, an export that fails. Each API's base URL is a fake
 * origin whose answers the test writes.
 */

const ORIGIN = 'http://source.test';
const fakeStandIns = { baseUrl: (api: SourceApiName) => `${ORIGIN}/${api}` } as SourceApiStandIns;

type Answer = Response | (() => Response | Promise<Response>);
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** Answers by path prefix (the first match), recording each request. */
const routes = (table: Array<[string, Answer]>) => {
  const seen: string[] = [];
  const fetchImpl: HttpFetch = async (input) => {
    const url = new URL(String(input));
    seen.push(`${url.pathname}${url.search}`);
    const route = table.find(([prefix]) => url.pathname.startsWith(prefix));
    if (route === undefined) throw new TypeError('fetch failed');
    const answer = route[1];
    return typeof answer === 'function' ? answer() : answer.clone();
  };
  return { fetch: fetchImpl, seen };
};

const listerWith = (api: SourceApiName, fetchImpl: HttpFetch, clock = fakeClock()) =>
  createSourceUserLister(standInConnection(fakeStandIns, api), {
    ...standInContext(clock),
    fetch: fetchImpl,
  });

const TOKEN: [string, Answer] = [
  '/auth0/oauth/token',
  json({ access_token: 't', expires_in: 86_400, token_type: 'Bearer' }),
];

describe('a source that does not answer', () => {
  it('is retried twice, then SOURCE_API_FAILED', async () => {
    const clock = fakeClock();
    const error = await rejection(listerWith('clerk', routes([]).fetch, clock).listPage(undefined));
    expect(error).toMatchObject({ code: 'SOURCE_API_FAILED', api: 'clerk', cursor: undefined });
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('stops at once when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const fetchImpl: HttpFetch = async () => {
      throw new Error('aborted');
    };
    await expect(
      listerWith('clerk', fetchImpl).listPage(undefined, { signal: controller.signal }),
    ).rejects.toThrow('aborted');
  });
});

describe('answers of the wrong shape', () => {
  it.each([
    ['clerk', [['/clerk/v1/users', json({ data: [] })]]],
    ['clerk', [['/clerk/v1/users', json([{ id: 42 }])]]],
    ['clerk', [['/clerk/v1/users', new Response('<html>', { status: 200 })]]],
    ['clerk', [['/clerk/v1/users', new Response(null, { status: 302 })]]],
    ['clerk', [['/clerk/v1/users', json({ errors: [] }, 400)]]],
    ['workos', [['/workos/directory_users', json([])]]],
    ['workos', [['/workos/directory_users', json({ data: [{ email: 'x' }] })]]],
    ['okta', [['/okta/api/v1/users', json({})]]],
    ['okta', [['/okta/api/v1/users', json([{ id: 'x' }])]]],
    ['auth0', [TOKEN, ['/auth0/api/v2/users', json([])]]],
    ['auth0', [TOKEN, ['/auth0/api/v2/users', json({ users: [{}], total: 1 })]]],
    ['auth0', [['/auth0/oauth/token', json({ token: 'x' })]]],
  ] as Array<[SourceApiName, Array<[string, Answer]>]>)(
    '%s: SOURCE_API_FAILED',
    async (api, table) => {
      const error = await rejection(listerWith(api, routes(table).fetch).listPage(undefined));
      expect(error).toMatchObject({ code: 'SOURCE_API_FAILED', api });
    },
  );

  it('Auth0 token endpoint refusing the client: SOURCE_API_UNAUTHORIZED', async () => {
    const { fetch: fetchImpl } = routes([
      ['/auth0/oauth/token', json({ error: 'invalid_client' }, 400)],
    ]);
    await expect(listerWith('auth0', fetchImpl).listPage(undefined)).rejects.toMatchObject({
      code: 'SOURCE_API_UNAUTHORIZED',
      upstreamStatus: 400,
    });
  });

  it('an Auth0 credential secret without clientSecret is a config error', async () => {
    const lister = createSourceUserLister(standInConnection(fakeStandIns, 'auth0'), {
      ...standInContext(fakeClock(), standInSecrets({ 'auth0-api': { clientId: 'x' } })),
      fetch: routes([]).fetch,
    });
    await expect(lister.listPage(undefined)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('a Clerk instance that ignores starting_after', () => {
  it('is caught rather than paged forever', async () => {
    const page = Array.from({ length: 500 }, (_, index) => ({ id: `user_${index}` }));
    const { fetch: fetchImpl } = routes([['/clerk/v1/users', () => json(page)]]);
    const lister = listerWith('clerk', fetchImpl);
    const first = await lister.listPage(undefined);
    await expect(lister.listPage(first.next)).rejects.toMatchObject({
      code: 'SOURCE_API_FAILED',
      message: expect.stringContaining('ignored starting_after'),
      cursor: first.next,
    });
  });
});

describe('rate limits too long to wait out', () => {
  it('stop with SOURCE_API_RATE_LIMITED without sleeping', async () => {
    const clock = fakeClock();
    const { fetch: fetchImpl } = routes([
      ['/clerk/v1/users', json({}, 429, { 'retry-after': '600' })],
    ]);
    await expect(listerWith('clerk', fetchImpl, clock).listPage(undefined)).rejects.toMatchObject({
      code: 'SOURCE_API_RATE_LIMITED',
    });
    expect(clock.sleeps).toEqual([]);
  });

  it('wait for the reset before the next request when none is left', async () => {
    const clock = fakeClock();
    const reset = String(clock.now() / 1000 + 5);
    const link = `<${ORIGIN}/okta/api/v1/users?after=u1&limit=200>; rel="next"`;
    const { fetch: fetchImpl } = routes([
      [
        '/okta/api/v1/users',
        () => json([], 200, { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset, link }),
      ],
    ]);
    const lister = listerWith('okta', fetchImpl, clock);
    const first = await lister.listPage(undefined);
    expect(clock.sleeps).toEqual([]);
    await lister.listPage(first.next);
    expect(clock.sleeps).toEqual([5000]);
  });

  it('back off 1 s, 2 s, 4 s… when the 429 says nothing', async () => {
    const clock = fakeClock();
    let calls = 0;
    const { fetch: fetchImpl } = routes([
      ['/clerk/v1/users', () => (calls++ < 3 ? json({}, 429) : json([]))],
    ]);
    await listerWith('clerk', fetchImpl, clock).listPage(undefined);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });
});

describe('an Auth0 export that goes wrong', () => {
  const over = json({ users: [], total: 5_000, start: 0, limit: 100, length: 0 });
  const job = (body: Record<string, unknown>): Array<[string, Answer]> => [
    TOKEN,
    ['/auth0/api/v2/users', over],
    ['/auth0/api/v2/jobs/users-exports', json({ id: 'job_1', status: 'pending' }, 201)],
    ['/auth0/api/v2/jobs/job_1', json(body)],
    ['/file', new Response(gzipSync('not json\n'))],
    ['/plain', new Response('{"user_id":"u1"}\n')],
  ];

  it.each([
    ['the job failed', { status: 'failed' }],
    ['a finished job without a file', { status: 'completed' }],
    ['a file that is not NDJSON', { status: 'completed', location: `${ORIGIN}/file` }],
    ['a download refused', { status: 'completed', location: `${ORIGIN}/gone` }],
    ['a job answer that is not an object', []],
  ])('%s: SOURCE_API_FAILED', async (_case, body) => {
    const table = job(body as Record<string, unknown>);
    table.push(['/gone', json({}, 403)]);
    const error = await rejection(listerWith('auth0', routes(table).fetch).listPage(undefined));
    expect(error).toMatchObject({ code: 'SOURCE_API_FAILED', api: 'auth0' });
  });

  it('polls again for a fresh link when the download link has expired', async () => {
    let downloads = 0;
    const table = job({ status: 'completed', location: `${ORIGIN}/once` });
    table.push([
      '/once',
      () => (downloads++ === 0 ? json({}, 403) : new Response(gzipSync('{"user_id":"u2"}\n'))),
    ]);
    const { fetch: fetchImpl, seen } = routes(table);
    const page = await listerWith('auth0', fetchImpl).listPage(undefined);
    expect(page.users.map((user) => user.externalId)).toEqual(['u2']);
    expect(seen.filter((path) => path === '/auth0/api/v2/jobs/job_1')).toHaveLength(2);
  });

  it('reads a file that is not compressed as it is', async () => {
    const table = job({ status: 'completed', location: `${ORIGIN}/plain` });
    const page = await listerWith('auth0', routes(table).fetch).listPage(undefined);
    expect(page.users.map((user) => user.externalId)).toEqual(['u1']);
  });

  it('needs a fetch that reads bytes for the file', async () => {
    const table = job({ status: 'completed', location: `${ORIGIN}/plain` });
    const base = routes(table).fetch;
    const textOnly: HttpFetch = async (input, init) => {
      const response = await base(input, init);
      return {
        status: response.status,
        ok: response.ok,
        headers: response.headers,
        body: null,
        text: () => response.text(),
        json: () => response.json(),
      };
    };
    await expect(listerWith('auth0', textOnly).listPage(undefined)).rejects.toMatchObject({
      code: 'SOURCE_API_FAILED',
      message: expect.stringContaining('cannot read a gzip file'),
    });
  });

  it('gives up on a job that never finishes', async () => {
    const clock = fakeClock();
    const table = job({ status: 'processing' });
    await expect(
      listerWith('auth0', routes(table).fetch, clock).listPage(undefined),
    ).rejects.toMatchObject({
      code: 'SOURCE_API_FAILED',
      message: expect.stringContaining('did not finish'),
    });
    expect(Math.max(...clock.sleeps)).toBe(10_000);
  });

  it('a job created without an id', async () => {
    const table: Array<[string, Answer]> = [
      TOKEN,
      ['/auth0/api/v2/users', over],
      ['/auth0/api/v2/jobs/users-exports', json({ status: 'pending' }, 201)],
    ];
    await expect(
      listerWith('auth0', routes(table).fetch).listPage(undefined),
    ).rejects.toMatchObject({ code: 'SOURCE_API_FAILED' });
  });
});
