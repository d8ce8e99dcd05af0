import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  auth0UserOf,
  clerkUserOf,
  demoUsers,
  oktaUserOf,
  syntheticPeople,
  workosUserOf,
} from '../../local/source-api-users.ts';
import {
  DEMO_CREDENTIALS,
  type SourceApiStandIns,
  startSourceApiStandIns,
} from '../../local/source-apis.ts';

/** The stand-ins answer as each real API is documented to, over plain HTTP. */

let standIns: SourceApiStandIns;
let now = Date.parse('2026-01-01T00:00:00.000Z');
beforeAll(async () => {
  standIns = await startSourceApiStandIns({ now: () => now, oktaLinks: 'joined' });
});
afterAll(() => standIns.close());
beforeEach(() => {
  now = Date.parse('2026-01-01T00:00:00.000Z');
  const people = syntheticPeople(5);
  standIns.setUsers('clerk', people.map(clerkUserOf));
  standIns.setUsers(
    'workos',
    people.map((person) => workosUserOf(person)),
  );
  standIns.setUsers('auth0', people.map(auth0UserOf));
  standIns.setUsers('okta', people.map(oktaUserOf));
  standIns.clearFaults();
  standIns.resetStats();
});

const ids = (users: unknown) =>
  (users as { id?: string; user_id?: string }[]).map((u) => u.id ?? u.user_id);
const get = (path: string, authorization: string) =>
  fetch(`${standIns.url}${path}`, { headers: { authorization } });
const CLERK = `Bearer ${DEMO_CREDENTIALS.clerkSecretKey}`;
const WORKOS = `Bearer ${DEMO_CREDENTIALS.workosApiKey}`;
const OKTA = `SSWS ${DEMO_CREDENTIALS.oktaApiToken}`;

const auth0Token = async (): Promise<string> => {
  const response = await fetch(`${standIns.url}/auth0/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: DEMO_CREDENTIALS.auth0ClientId,
      client_secret: DEMO_CREDENTIALS.auth0ClientSecret,
      audience: `${standIns.url}/auth0/api/v2/`,
    }).toString(),
  });
  expect(response.status).toBe(200);
  return `Bearer ${((await response.json()) as { access_token: string }).access_token}`;
};

describe('seeded by default', () => {
  it('with the emulator seed external ids, the sample users, a user CIAM lacks', () => {
    const seed = demoUsers();
    expect(ids(seed.clerk)).toEqual(['ext-alice', 'ext-bob', 'ext-carol', 'ext-dave']);
    expect(ids(seed.okta)).toEqual(['ext-alice', 'ext-bob', 'ext-carol', 'ext-dave', 'ext-erin']);
    // The sample events' own user objects.
    expect(seed.clerk[0]).toMatchObject({ public_metadata: { department: 'Engineering' } });
    expect(seed.workos[1]).toMatchObject({ job_title: 'Account Executive' });
    expect(seed.workos[1]).not.toHaveProperty('previous_attributes');
    expect(seed.auth0[0]).toMatchObject({ user_metadata: { birthdate: '1990-05-17' } });
  });
});

describe('Clerk stand-in', () => {
  it('checks the secret key and the paging parameters as Clerk does', async () => {
    expect((await get('/clerk/v1/users', 'Bearer nope')).status).toBe(401);
    expect((await get('/clerk/v1/users?limit=501', CLERK)).status).toBe(422);
    expect((await get('/clerk/v1/users?offset=-1', CLERK)).status).toBe(422);
    expect((await get('/clerk/v1/users?order_by=%3Fx', CLERK)).status).toBe(422);
    const after = 'starting_after=ext-synth-000001';
    expect((await get(`/clerk/v1/users?order_by=-updated_at&${after}`, CLERK)).status).toBe(422);
    expect((await get(`/clerk/v1/users?offset=1&${after}`, CLERK)).status).toBe(422);
    expect((await get('/clerk/v1/nothing', CLERK)).status).toBe(404);
  });

  it('answers a bare array, newest first by default, with offsets and a count', async () => {
    const newest = await (await get('/clerk/v1/users?limit=2', CLERK)).json();
    expect(ids(newest)).toEqual(['ext-synth-000005', 'ext-synth-000004']);
    const offset = await (
      await get('/clerk/v1/users?limit=2&offset=2&order_by=created_at', CLERK)
    ).json();
    expect(ids(offset)).toEqual(['ext-synth-000003', 'ext-synth-000004']);
    const byUpdate = await (await get('/clerk/v1/users?order_by=%2Bupdated_at', CLERK)).json();
    expect(ids(byUpdate)).toHaveLength(5);
    const byName = await (await get('/clerk/v1/users?order_by=-username', CLERK)).json();
    expect(ids(byName)[0]).toBe('ext-synth-000005');
    expect(await (await get('/clerk/v1/users/count', CLERK)).json()).toEqual({
      object: 'total_count',
      total_count: 5,
    });
  });

  it('answers a rate limit with Retry-After, and counts it', async () => {
    standIns.fault('clerk', { storm: 1, retryAfterSeconds: 4 });
    const limited = await get('/clerk/v1/users', CLERK);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '4']);
    expect((await get('/clerk/v1/users', CLERK)).status).toBe(200);
    expect(standIns.stats()).toMatchObject({ requests: { clerk: 2 }, rateLimited: { clerk: 1 } });
  });
});

describe('WorkOS stand-in', () => {
  const base = `/workos/directory_users?directory=${DEMO_CREDENTIALS.workosDirectoryId}`;

  it('needs a directory and a limit up to 100, and a valid key', async () => {
    expect((await get('/workos/directory_users', WORKOS)).status).toBe(422);
    expect((await get(`${base}&limit=101`, WORKOS)).status).toBe(422);
    expect((await get(base, 'Bearer nope')).status).toBe(401);
    expect((await get('/workos/directory_groups', WORKOS)).status).toBe(422);
    expect((await get('/workos/directory_roles', WORKOS)).status).toBe(404);
  });

  it('lists newest first by default, and pages both ways', async () => {
    const page = (await (await get(`${base}&limit=2`, WORKOS)).json()) as {
      data: unknown[];
      list_metadata: { after: string | null; before: string | null };
    };
    expect(ids(page.data)).toEqual(['ext-synth-000005', 'ext-synth-000004']);
    expect(page.list_metadata).toEqual({ before: null, after: 'ext-synth-000004' });
    const before = (await (
      await get(`${base}&limit=2&order=asc&before=ext-synth-000004`, WORKOS)
    ).json()) as { data: unknown[] };
    expect(ids(before.data)).toEqual(['ext-synth-000002', 'ext-synth-000003']);
    standIns.fault('workos', { storm: 1 });
    const limited = await get(base, WORKOS);
    expect([limited.status, await limited.text()]).toEqual([429, 'Ratelimited']);
  });
});

describe('Auth0 stand-in', () => {
  it('issues tokens for the client credentials and the API audience only', async () => {
    const token = (body: Record<string, unknown>) =>
      fetch(`${standIns.url}/auth0/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const good = {
      grant_type: 'client_credentials',
      client_id: DEMO_CREDENTIALS.auth0ClientId,
      client_secret: DEMO_CREDENTIALS.auth0ClientSecret,
      audience: `${standIns.url}/auth0/api/v2/`,
    };
    expect((await token({ ...good, grant_type: 'password' })).status).toBe(400);
    expect((await token({ ...good, client_secret: 'x' })).status).toBe(401);
    expect((await token({ ...good, audience: 'https://elsewhere/' })).status).toBe(403);
    expect((await token(good)).status).toBe(200);
    const broken = await fetch(`${standIns.url}/auth0/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(broken.status).toBe(400);
    expect((await get('/auth0/api/v2/users', 'Bearer forged')).status).toBe(401);
  });

  it('pages with or without totals, up to 100 a page and 1,000 in all', async () => {
    const bearer = await auth0Token();
    const bare = await (
      await get('/auth0/api/v2/users?per_page=2&sort=created_at:-1', bearer)
    ).json();
    expect(ids(bare)).toEqual(['ext-synth-000005', 'ext-synth-000004']);
    const totals = await (
      await get('/auth0/api/v2/users?per_page=2&page=2&include_totals=true', bearer)
    ).json();
    expect(totals).toMatchObject({ start: 4, limit: 2, length: 1, total: 5 });
    expect((await get('/auth0/api/v2/users?per_page=101', bearer)).status).toBe(400);
    const capped = await get('/auth0/api/v2/users?per_page=100&page=10', bearer);
    expect(capped.status).toBe(400);
    expect(await capped.json()).toMatchObject({
      message: expect.stringContaining('You can only page through the first 1000 records'),
    });
    standIns.fault('auth0', { storm: 1, retryAfterSeconds: 5 });
    const limited = await get('/auth0/api/v2/users', bearer);
    expect([limited.status, limited.headers.get('x-ratelimit-reset')]).toEqual([
      429,
      String(now / 1000 + 5),
    ]);
  });

  it('exports every user as gzip NDJSON behind a link that lives 60 s', async () => {
    const bearer = await auth0Token();
    const created = await fetch(`${standIns.url}/auth0/api/v2/jobs/users-exports`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'json', fields: [{ name: 'user_id' }, { name: 'email' }] }),
    });
    const job = (await created.json()) as { id: string; status: string };
    expect(job.status).toBe('pending');
    const poll = async () =>
      (await (await get(`/auth0/api/v2/jobs/${job.id}`, bearer)).json()) as {
        status: string;
        location?: string;
      };
    expect((await poll()).status).toBe('processing');
    const done = await poll();
    expect(done.status).toBe('completed');
    const file = await fetch(done.location as string);
    const lines = gunzipSync(Buffer.from(await file.arrayBuffer()))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({ user_id: 'ext-synth-000001', email: 'synth000001@example.com' });
    expect(lines).toHaveLength(5);
    now += 60_000;
    expect((await fetch(done.location as string)).status).toBe(403);
    expect((await get('/auth0/api/v2/jobs/job_nope', bearer)).status).toBe(404);
    expect((await get('/auth0/api/v2/nothing', bearer)).status).toBe(404);
    now += 86_400_000;
    expect((await get('/auth0/api/v2/users', bearer)).status).toBe(401);
  });
});

describe('Okta stand-in', () => {
  it('pages with absolute Link URLs and answers single users', async () => {
    const page = await get('/okta/api/v1/users?limit=2', OKTA);
    expect(page.headers.get('link')).toBe(
      `<${standIns.url}/okta/api/v1/users?limit=2>; rel="self", <${standIns.url}/okta/api/v1/users?limit=2&after=ext-synth-000002>; rel="next"`,
    );
    expect(page.headers.get('x-rate-limit-limit')).toBe('600');
    expect((await get('/okta/api/v1/users/ext-synth-000003', OKTA)).status).toBe(200);
    expect((await get('/okta/api/v1/users/ext-nobody', OKTA)).status).toBe(404);
    expect((await get('/okta/api/v1/users?search=x', OKTA)).status).toBe(200);
    expect((await get('/okta/api/v1/users?filter=lastUpdated%20gt%201', OKTA)).status).toBe(400);
    expect((await get('/okta/api/v1/users?limit=0', OKTA)).status).toBe(400);
    expect((await get('/okta/api/v1/groups', OKTA)).status).toBe(404);
    expect((await get('/okta/api/v1/users', 'SSWS nope')).status).toBe(401);
    expect((await get('/nowhere', OKTA)).status).toBe(404);
  });
});

describe('synthetic users for larger runs', () => {
  it('are the same for the same index, and seed CIAM with matching external ids', async () => {
    const { ciamSeedUsersOf } = await import('../../local/source-api-users.ts');
    const people = syntheticPeople(10_000);
    expect(new Set(people.map((person) => person.id)).size).toBe(10_000);
    expect(syntheticPeople(2)).toEqual(people.slice(0, 2));
    const seeded = ciamSeedUsersOf(people.slice(0, 4), 2);
    expect(seeded.map((user) => [user.IndexedAttribute1, user.Nickname])).toEqual([
      ['ext-synth-000001', 'Old Name'],
      ['ext-synth-000002', 'Synth User 000002'],
      ['ext-synth-000003', 'Old Name'],
      ['ext-synth-000004', 'Synth User 000004'],
    ]);
  });
});
