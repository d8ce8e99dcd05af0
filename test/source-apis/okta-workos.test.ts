import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSourceUserLister } from '../../lib/source-apis/index.ts';
import { nextLink } from '../../lib/source-apis/okta.ts';
import {
  demoUsers,
  oktaUserOf,
  type SourcePerson,
  syntheticPeople,
  workosUserOf,
} from '../../local/source-api-users.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';
import {
  type FakeClock,
  fakeClock,
  listAll,
  listerFor,
  rejection,
  standInConnection,
  standInContext,
} from '../helpers/source-apis.ts';

let standIns: SourceApiStandIns;
let joined: SourceApiStandIns;
let clock: FakeClock = fakeClock();
beforeAll(async () => {
  standIns = await startSourceApiStandIns({ now: () => clock.now() });
  joined = await startSourceApiStandIns({ now: () => clock.now(), oktaLinks: 'joined' });
});
afterAll(async () => {
  await standIns.close();
  await joined.close();
});
beforeEach(() => {
  clock = fakeClock();
  const seed = demoUsers();
  standIns.setUsers('okta', seed.okta);
  standIns.setUsers('workos', seed.workos);
  standIns.clearFaults();
  standIns.resetStats();
});

describe('Okta Users API', () => {
  it('lists DEPROVISIONED users too, marked, after the plain list that omits them', async () => {
    const { users } = await listAll(listerFor(standIns, 'okta', clock));
    expect(users.map((user) => [user.externalId, user.deprovisioned ?? false])).toEqual([
      ['ext-alice', false],
      ['ext-bob', false],
      ['ext-carol', false],
      ['ext-dave', false],
      ['ext-erin', true],
    ]);
  });

  it.each([
    ['repeated Link headers', () => standIns],
    ['one comma-joined Link header', () => joined],
  ])('follows rel="next" from %s', async (_name, server) => {
    const target = server();
    target.setUsers('okta', [...syntheticPeople(5).map(oktaUserOf)]);
    const { users, pages } = await listAll(listerFor(target, 'okta', clock, { pageSize: 2 }));
    expect(users.map((user) => user.externalId)).toEqual(
      syntheticPeople(5).map((person) => person.id),
    );
    expect(pages).toEqual([2, 2, 1, 0]);
  });

  it('reads rel="next" wherever it sits, with commas inside the URL', () => {
    expect(
      nextLink(
        '<https://x.okta.com/api/v1/users?limit=2>; rel="self", <https://x.okta.com/api/v1/users?after=00u1&filter=a,b&limit=2>; rel="next"',
      ),
    ).toBe('https://x.okta.com/api/v1/users?after=00u1&filter=a,b&limit=2');
    expect(nextLink('<https://x.okta.com/a>; rel="self"')).toBeUndefined();
    expect(nextLink('<https://x.okta.com/b>; rel=next')).toBe('https://x.okta.com/b');
    expect(nextLink(null)).toBeUndefined();
  });

  it('never sends the API token to a cursor outside the configured org', async () => {
    const foreign = Buffer.from(
      JSON.stringify({ v: 1, api: 'okta', phase: 'all', url: 'https://evil.example/api/v1/users' }),
    ).toString('base64url');
    const error = await rejection(listerFor(standIns, 'okta', clock).listPage(foreign));
    expect(error).toMatchObject({ code: 'SOURCE_CURSOR_EXPIRED' });
    expect(standIns.stats().requests.okta).toBe(0);
  });

  it("uses the connection's secrets.apiToken when reconcile.api names no credential", async () => {
    const connection = standInConnection(standIns, 'okta');
    const { credentials: _none, ...api } = connection.reconcile?.api ?? { kind: 'okta' as const };
    const lister = createSourceUserLister(
      {
        ...connection,
        secrets: { ...connection.secrets, apiToken: { name: 'okta-api', key: 'apiToken' } },
        reconcile: { api },
      },
      standInContext(clock),
    );
    const page = await lister.listPage(undefined);
    expect(page.users).toHaveLength(4);
  });
});

describe('WorkOS Directory Sync', () => {
  it('spaces requests to the 4/s per directory WorkOS allows', async () => {
    standIns.setUsers(
      'workos',
      syntheticPeople(7).map((person) => workosUserOf(person)),
    );
    const { users } = await listAll(listerFor(standIns, 'workos', clock, { pageSize: 2 }));
    expect(users).toHaveLength(7);
    // The clock moves only when the lister sleeps: each request after the first waits 250 ms.
    expect(clock.sleeps).toEqual([250, 250, 250]);
  });

  it('does not wait when the time has passed anyway', async () => {
    standIns.setUsers(
      'workos',
      syntheticPeople(3).map((person) => workosUserOf(person)),
    );
    const lister = listerFor(standIns, 'workos', clock, { pageSize: 2 });
    const first = await lister.listPage(undefined);
    clock.advance(1000);
    await lister.listPage(first.next);
    expect(clock.sleeps).toEqual([]);
  });

  it('lists only the configured directory, marks inactive users and passes groups on', async () => {
    const [alice, bob, carol] = syntheticPeople(3) as [SourcePerson, SourcePerson, SourcePerson];
    standIns.setUsers('workos', [
      { ...workosUserOf(alice), groups: [{ id: 'directory_group_1', name: 'Staff' }] },
      workosUserOf({ ...bob, deprovisioned: true }),
      workosUserOf(carol, 'directory_other'),
    ]);
    const { users } = await listAll(listerFor(standIns, 'workos', clock));
    expect(users.map((user) => user.externalId)).toEqual([alice?.id, bob?.id]);
    expect(users[0]?.groups).toEqual([{ id: 'directory_group_1', name: 'Staff' }]);
    expect(users[1]?.deprovisioned).toBe(true);
  });

  it('reads every membership through the group endpoints for a connection that maps groups', async () => {
    const [alice, bob, carol] = syntheticPeople(3) as [SourcePerson, SourcePerson, SourcePerson];
    const staff = { id: 'directory_group_staff', name: 'Staff' };
    const admins = { id: 'directory_group_admins', name: 'Admins' };
    standIns.setUsers('workos', [
      { ...workosUserOf(alice), groups: [staff, admins] },
      { ...workosUserOf(bob), groups: [staff] },
      workosUserOf(carol),
    ]);
    const connection = { ...standInConnection(standIns, 'workos', { pageSize: 2 }), groups: {} };
    const lister = createSourceUserLister(connection, standInContext(clock));
    const { users } = await listAll(lister);
    expect(users.map((user) => [user.externalId, user.groups])).toEqual([
      [alice.id, [admins, staff]],
      [bob.id, [staff]],
      [carol.id, []],
    ]);
    // Groups once (1 page), members of each (2), then the users (2 pages), all paced.
    expect(standIns.stats().requests.workos).toBe(5);
    expect(clock.sleeps).toEqual([250, 250, 250, 250]);
  });
});
