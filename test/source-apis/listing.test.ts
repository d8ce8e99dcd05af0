import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SourceApiError } from '../../lib/errors.ts';
import {
  API_USER_OF,
  demoUsers,
  type SourceApiName,
  syntheticPeople,
} from '../../local/source-api-users.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';
import {
  type FakeClock,
  fakeClock,
  listAll,
  listerFor,
  rejection,
} from '../helpers/source-apis.ts';

/**
 * Every API over real HTTP against its stand-in: paging to the end, the edge pages, a cursor
 * that expires, 429 storms within and beyond the bound, and a source failing mid-way.
 */

const APIS: readonly SourceApiName[] = ['clerk', 'workos', 'auth0', 'okta'];

let standIns: SourceApiStandIns;
// One clock for the stand-ins (token expiry, rate-limit reset times) and the listers.
let clock: FakeClock = fakeClock();
beforeAll(async () => {
  standIns = await startSourceApiStandIns({ now: () => clock.now() });
});
afterAll(() => standIns.close());
beforeEach(() => {
  clock = fakeClock();
  const seed = demoUsers();
  for (const api of APIS) standIns.setUsers(api, seed[api]);
  standIns.clearFaults();
  standIns.resetStats();
});

const people = (count: number) => syntheticPeople(count);
const seedSynthetic = (api: SourceApiName, count: number) =>
  standIns.setUsers(api, people(count).map(API_USER_OF[api]));

describe.each(APIS)('%s user API', (api) => {
  it('lists every user across pages, oldest first, each once', async () => {
    seedSynthetic(api, 7);
    const { users, pages } = await listAll(listerFor(standIns, api, clock, { pageSize: 3 }));
    expect(users.map((user) => user.externalId)).toEqual(people(7).map((person) => person.id));
    expect(pages.slice(0, 3)).toEqual([3, 3, 1]);
    for (const user of users) {
      expect(user.change).toMatchObject({
        connectionId: `${api}-conn`,
        eventType: 'user.snapshot',
        eventId: `snapshot:${user.externalId}:${user.updatedAt}`,
        occurredAt: user.updatedAt,
        subject: { externalId: user.externalId },
      });
    }
    expect(users[0]?.updatedAt).toBe(people(1)[0]?.updatedAt);
    expect(users[0]?.change.attributes).toMatchObject({
      email: 'synth000001@example.com',
      givenName: 'Synth',
      familyName: 'User 000001',
    });
  });

  it('lists an empty source as no users, and ends', async () => {
    standIns.setUsers(api, []);
    const { users, pages } = await listAll(listerFor(standIns, api, clock));
    expect(users).toEqual([]);
    // Okta's second pass (DEPROVISIONED users) is a page of its own.
    expect(pages).toEqual(api === 'okta' ? [0, 0] : [0]);
  });

  it('ends after a last page that is exactly full, without listing anyone twice', async () => {
    seedSynthetic(api, 4);
    const { users, pages } = await listAll(listerFor(standIns, api, clock, { pageSize: 2 }));
    expect(users.map((user) => user.externalId)).toEqual(people(4).map((person) => person.id));
    // Clerk says nothing of what is left: a full page costs one more request, answered [].
    const expected = { clerk: [2, 2, 0], workos: [2, 2], auth0: [2, 2], okta: [2, 2, 0] }[api];
    expect(pages).toEqual(expected);
  });

  it('resumes from a cursor: the pages after it, and nothing before', async () => {
    seedSynthetic(api, 5);
    const lister = listerFor(standIns, api, clock, { pageSize: 2 });
    const first = await lister.listPage(undefined);
    const rest = await listAll(listerFor(standIns, api, clock, { pageSize: 2 }), first.next);
    expect([...first.users, ...rest.users].map((user) => user.externalId)).toEqual(
      people(5).map((person) => person.id),
    );
  });

  it('waits out a 429 storm within the bound, as long as the API asks', async () => {
    standIns.fault(api, { storm: 5, retryAfterSeconds: 3 });
    const { users } = await listAll(listerFor(standIns, api, clock));
    expect(users.length).toBeGreaterThan(0);
    expect(clock.sleeps).toEqual([3000, 3000, 3000, 3000, 3000]);
    expect(standIns.stats().rateLimited[api]).toBe(5);
  });

  it('honours 429s on every few requests over a long listing', async () => {
    seedSynthetic(api, 9);
    standIns.fault(api, { rateLimitEvery: 3, retryAfterSeconds: 1 });
    const { users } = await listAll(listerFor(standIns, api, clock, { pageSize: 2 }));
    expect(users.map((user) => user.externalId)).toEqual(people(9).map((person) => person.id));
    const limited = standIns.stats().rateLimited[api];
    expect(limited).toBeGreaterThan(0);
    expect(clock.sleeps.filter((ms) => ms === 1000)).toHaveLength(limited);
  });

  it('gives up on a storm beyond the bound with SOURCE_API_RATE_LIMITED', async () => {
    standIns.fault(api, { storm: 50, retryAfterSeconds: 1 });
    const error = await rejection(listerFor(standIns, api, clock).listPage(undefined));
    expect(error).toBeInstanceOf(SourceApiError);
    expect(error).toMatchObject({ code: 'SOURCE_API_RATE_LIMITED', api, cursor: undefined });
    expect(clock.sleeps).toHaveLength(8);
  });

  it('fails mid-way with SOURCE_API_FAILED carrying the last good cursor, and resumes there', async () => {
    seedSynthetic(api, 6);
    standIns.fault(api, { failAfterPages: 2 });
    const lister = listerFor(standIns, api, clock, { pageSize: 2 });
    const listed: string[] = [];
    let cursor: string | undefined;
    let failure: unknown;
    try {
      for (;;) {
        const page = await lister.listPage(cursor);
        listed.push(...page.users.map((user) => user.externalId));
        if (page.next === undefined) break;
        cursor = page.next;
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({ code: 'SOURCE_API_FAILED', api, upstreamStatus: 500 });
    expect(listed).toHaveLength(4);
    const resumeAt = (failure as SourceApiError).cursor;
    expect(resumeAt).toBe(cursor);
    standIns.clearFaults(api);
    const rest = await listAll(listerFor(standIns, api, clock, { pageSize: 2 }), resumeAt);
    expect([...listed, ...rest.users.map((user) => user.externalId)]).toEqual(
      people(6).map((person) => person.id),
    );
  });

  it('refuses a wrong credential with SOURCE_API_UNAUTHORIZED', async () => {
    const { standInSecrets, standInConnection, standInContext } = await import(
      '../helpers/source-apis.ts'
    );
    const { createSourceUserLister } = await import('../../lib/source-apis/index.ts');
    const wrong = standInSecrets({
      'clerk-api': 'sk_wrong',
      'workos-api': 'sk_wrong',
      'auth0-api': { clientId: 'wrong', clientSecret: 'wrong' },
      'okta-api': 'wrong',
    });
    const lister = createSourceUserLister(
      standInConnection(standIns, api),
      standInContext(clock, wrong),
    );
    await expect(lister.listPage(undefined)).rejects.toMatchObject({
      code: 'SOURCE_API_UNAUTHORIZED',
      upstreamStatus: 401,
    });
  });
});

describe.each(['clerk', 'workos', 'okta'] as const)('%s cursor expiry', (api) => {
  it('answers a cursor the API no longer takes with SOURCE_CURSOR_EXPIRED', async () => {
    seedSynthetic(api, 5);
    const lister = listerFor(standIns, api, clock, { pageSize: 2 });
    const first = await lister.listPage(undefined);
    standIns.fault(api, { cursorsExpired: true });
    const error = await rejection(lister.listPage(first.next));
    expect(error).toMatchObject({ code: 'SOURCE_CURSOR_EXPIRED', api, cursor: first.next });
  });

  it('refuses a cursor of another API or garbage as expired, before any request', async () => {
    const lister = listerFor(standIns, api, clock);
    const other = Buffer.from(JSON.stringify({ v: 1, api: 'nope', after: 'x' })).toString(
      'base64url',
    );
    for (const cursor of [other, 'not a cursor']) {
      await expect(lister.listPage(cursor)).rejects.toMatchObject({
        code: 'SOURCE_CURSOR_EXPIRED',
      });
    }
    expect(standIns.stats().requests[api]).toBe(0);
  });
});
