import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auth0UserOf, syntheticPeople } from '../../local/source-api-users.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';
import {
  type FakeClock,
  fakeClock,
  listAll,
  listerFor,
  rejection,
} from '../helpers/source-apis.ts';

/** Auth0: the client-credentials token, the 1,000-user paging cap and the users export job. */

let standIns: SourceApiStandIns;
let clock: FakeClock = fakeClock();
beforeAll(async () => {
  standIns = await startSourceApiStandIns({
    now: () => clock.now(),
    tokenLifetimeSeconds: 3600,
    exportPolls: 2,
  });
});
afterAll(() => standIns.close());
beforeEach(() => {
  clock = fakeClock();
  standIns.setUsers('auth0', syntheticPeople(5).map(auth0UserOf));
  standIns.clearFaults();
  standIns.resetStats();
});

const ids = (count: number) => syntheticPeople(count).map((person) => person.id);

describe('Auth0 Management API token', () => {
  it('is fetched once and reused while it is valid', async () => {
    const { users } = await listAll(listerFor(standIns, 'auth0', clock, { pageSize: 1 }));
    expect(users.map((user) => user.externalId)).toEqual(ids(5));
    expect(standIns.stats().auth0Tokens).toBe(1);
    expect(standIns.stats().pages.auth0).toBe(5);
  });

  it('is renewed before it expires', async () => {
    const lister = listerFor(standIns, 'auth0', clock, { pageSize: 1 });
    const first = await lister.listPage(undefined);
    clock.advance(3_600_000 - 30_000); // inside the last minute of its hour
    await lister.listPage(first.next);
    expect(standIns.stats().auth0Tokens).toBe(2);
  });

  it('is renewed once when the API refuses it as expired', async () => {
    const lister = listerFor(standIns, 'auth0', clock, { pageSize: 1 });
    const first = await lister.listPage(undefined);
    // The stand-in's clock alone moves past the token's life: the lister still trusts it.
    const later = clock.now() + 3_600_000 - 70_000;
    const listerClock = clock;
    clock = { ...listerClock, now: () => later + 3_600_000 };
    const page = await lister.listPage(first.next);
    expect(page.users.map((user) => user.externalId)).toEqual([ids(2)[1]]);
    expect(standIns.stats().auth0Tokens).toBe(2);
  });
});

describe('more users than Auth0 pages through', () => {
  it('lists a tenant over 1,000 users through the export job (gzip NDJSON)', async () => {
    standIns.setUsers('auth0', syntheticPeople(1_203).map(auth0UserOf));
    const { users, pages } = await listAll(listerFor(standIns, 'auth0', clock));
    expect(users.map((user) => user.externalId)).toEqual(ids(1_203));
    expect(pages).toHaveLength(13);
    const stats = standIns.stats();
    expect(stats).toMatchObject({ auth0Exports: 1, auth0Downloads: 1 });
    // One page request (its total says export), then the job: created, polled until done.
    expect(stats.pages.auth0).toBe(1);
    // The job's polls wait between them, growing.
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(users[1_202]?.change.attributes).toMatchObject({ email: 'synth001203@example.com' });
  });

  it('switches to the export when Auth0 refuses a page, listing everyone', async () => {
    // 30 a page: the 34th would end past user 1,000, and Auth0 refuses it (400).
    standIns.setUsers('auth0', syntheticPeople(1_000).map(auth0UserOf));
    const { users, pages } = await listAll(listerFor(standIns, 'auth0', clock, { pageSize: 30 }));
    expect(pages.slice(0, 33)).toEqual(Array(33).fill(30));
    expect(new Set(users.map((user) => user.externalId))).toEqual(new Set(ids(1_000)));
    // The 990 listed by paging come again from the export: the same snapshots.
    expect(users).toHaveLength(990 + 1_000);
    const { raw: _exported, ...again } = users[990]?.change ?? {};
    const { raw: _paged, ...first } = users[0]?.change ?? {};
    expect(again).toEqual(first);
    expect(standIns.stats().auth0Exports).toBe(1);
  });

  it('resumes an export from its cursor in a new run, reading the same job again', async () => {
    standIns.setUsers('auth0', syntheticPeople(1_010).map(auth0UserOf));
    const first = await listerFor(standIns, 'auth0', clock).listPage(undefined);
    const rest = await listAll(listerFor(standIns, 'auth0', clock), first.next);
    expect([...first.users, ...rest.users].map((user) => user.externalId)).toEqual(ids(1_010));
    expect(standIns.stats()).toMatchObject({ auth0Exports: 1, auth0Downloads: 2 });
  });

  it('answers an export cursor whose job is gone with SOURCE_CURSOR_EXPIRED', async () => {
    standIns.setUsers('auth0', syntheticPeople(1_010).map(auth0UserOf));
    const first = await listerFor(standIns, 'auth0', clock).listPage(undefined);
    standIns.fault('auth0', { cursorsExpired: true });
    const error = await rejection(listerFor(standIns, 'auth0', clock).listPage(first.next));
    expect(error).toMatchObject({
      code: 'SOURCE_CURSOR_EXPIRED',
      cursor: first.next,
      upstreamStatus: 404,
    });
  });
});
