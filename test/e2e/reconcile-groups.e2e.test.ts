import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Seed } from '../../emulator/server.ts';
import { applyUpdate } from '../../lib/ciam/apply.ts';
import { applyTargetsOf } from '../../lib/delivery/delivery.ts';
import type { ChangeEntry, ReconcilePlan } from '../../lib/reconcile/plan.ts';
import { type ReconcileConnection, runReconcile } from '../../lib/reconcile/run.ts';
import { describePlan, summaryLine } from '../../lib/reconcile/runner.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import { type ReconcileQueue, startReconcileQueue } from '../../local/reconcile.ts';
import { DEMO_PEOPLE, type SourcePerson, workosUserOf } from '../../local/source-api-users.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';
import { runReconcileCli } from '../../scripts/reconcile.ts';
import { EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';
import { readJson } from '../helpers/files.ts';

// Group memberships reconciled from the WorkOS directory's listing, through the real WorkOS
// client against its stand-in (groups read with /directory_groups and /directory_users?group=),
// the CIAM emulator and the real queue consumer, all over real HTTP.

const logger = new Logger({ logLevel: 'SILENT' });
const STAFF = { id: 'directory_group_staff', name: 'Staff' };
const ADMINS = { id: 'directory_group_admins', name: 'Admins' };
// No CIAM group has its name: mapped to nothing.
const GHOSTS = { id: 'directory_group_ghosts', name: 'Ghosts' };
// Mapped explicitly (groups.map) to group-eng; no directory user is in it.
const ENG_SOURCE_ID = 'directory_group_eng';

// The demo seed, plus two groups: Console, which nothing of the WorkOS connection maps to (a
// console admin's), and Engineering, the target of its groups.map.
const demo = readJson('emulator/seed.json') as Seed;
const seed: Seed = {
  ...demo,
  userStores: demo.userStores.map((store) => {
    if (store.UserStoreId !== EMULATOR_USER_STORE_ID) return store;
    const inGroups: Record<string, string[]> = {
      'demo-user-1': ['group-admins', 'group-console'],
      'demo-user-2': ['group-eng'],
    };
    return {
      ...store,
      UserGroups: [
        ...(store.UserGroups ?? []),
        { UserGroupId: 'group-console', DisplayName: 'Console' },
        { UserGroupId: 'group-eng', DisplayName: 'Engineering' },
      ],
      Users: (store.Users ?? []).map((user) => {
        const groups = inGroups[user.UserId as string];
        return groups === undefined ? user : { ...user, UserGroups: groups };
      }),
    };
  }),
};

/** The demo people as the WorkOS directory lists them: alice in Staff, bob in Ghosts, carol in both. */
const GROUPS: Record<string, { id: string; name: string }[]> = {
  'ext-alice': [STAFF],
  'ext-bob': [GHOSTS],
  'ext-carol': [STAFF, ADMINS],
};
const people = (): SourcePerson[] =>
  DEMO_PEOPLE.slice(0, 3).map((person) => ({ ...person, groups: GROUPS[person.id] ?? [] }));

let standIns: SourceApiStandIns;
beforeAll(async () => {
  standIns = await startSourceApiStandIns();
});
afterAll(() => standIns.close());

describe('reconciling WorkOS group memberships', () => {
  const emulator = useEmulator({ seed, rateLimit: 1000 }, { resetBeforeEach: true });
  let runtime: Runtime;
  let queue: ReconcileQueue;
  const env = () => ({
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator().url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000',
  });
  beforeEach(() => {
    standIns.setUsers(
      'workos',
      people().map((person) => workosUserOf(person)),
    );
    runtime = createRuntime(env(), { recordOutcome: () => {}, logger });
    queue = startReconcileQueue({ env: env(), overrides: { logger }, ratePerSecond: 1000 });
  });
  afterEach(async () => {
    await queue.stop();
  });

  const setUp = (unmapped: 'ignore' | 'refuse' = 'ignore') => {
    const deps = {
      ...reconcileDeps(runtime, {
        sourceApisUrl: standIns.url,
        sleep: async () => {},
        recordDrift: () => {},
      }),
      queue: queue.queue,
    };
    const found = deps.connection('workos');
    const connection: ReconcileConnection = {
      ...found,
      target: { ...found.target, groups: { map: { [ENG_SOURCE_ID]: 'group-eng' }, unmapped } },
    };
    return { deps, connection };
  };
  /** Applies a saved plan with the connection's groups.map emptied since it was made. */
  const applyWithoutMap = async (plan: ReconcilePlan, unmapped: 'ignore' | 'refuse') => {
    const { deps, connection } = setUp(unmapped);
    const changed: ReconcileConnection = {
      ...connection,
      target: { ...connection.target, groups: { map: {}, unmapped } },
    };
    const applied = await runReconcile(deps, changed, {
      apply: true,
      yes: true,
      plan,
      applySaved: true,
    });
    await queue.drain();
    return applied;
  };
  const groupsOf = (userId: string) =>
    [...(emulator().store.getUser(EMULATOR_USER_STORE_ID, userId)?.UserGroups ?? [])].sort();
  const updates = () => emulator().calls.filter((call) => call.action === 'UpdateUser').length;
  const changeOf = (entries: readonly unknown[], externalId: string) =>
    (entries as ChangeEntry[]).find(
      (entry) => entry.kind === 'change' && entry.externalId === externalId,
    );

  /** A WorkOS dsync.group.user_removed as its webhook applies it: alice leaves Staff. */
  const removedFromStaff = (occurredAt: string) => {
    const target = applyTargetsOf(runtime.config).get('workos');
    if (target === undefined) throw new Error('no workos connection');
    return applyUpdate(
      {
        ciam: runtime.tenants.byId('default').ciam,
        resolver: runtime.tenants.byId('default').resolver,
      },
      target,
      {
        change: {
          eventId: 'event_removed_staff',
          eventType: 'dsync.group.user_removed',
          occurredAt,
          subject: { externalId: 'ext-alice' },
        },
        draft: { UserStoreId: EMULATOR_USER_STORE_ID },
        memberships: [{ groupId: 'group-staff', member: false }],
      },
    );
  };

  it('plans adds and removals of managed groups only, and applies them', async () => {
    const { deps, connection } = setUp();
    const { plan } = await runReconcile(deps, connection, { apply: false });
    expect(plan.counts).toMatchObject({ sourceUsers: 3, matched: 3, errors: 0, held: 0 });
    const lines = describePlan(plan);
    // Admins is managed: a listed source group maps to it by name. Console is nobody's here.
    expect(lines).toContain('change   ext-alice → demo-user-1  groups: +Staff, -Admins');
    // group-eng is a groups.map target: managed though no source user is in it. Ghosts maps to
    // nothing and is ignored.
    expect(lines).toContain('change   ext-bob → demo-user-2  groups: -group-eng');
    expect(lines).toContain('change   ext-carol → demo-user-3  groups: +Admins, +Staff');
    expect(changeOf(plan.entries, 'ext-alice')?.memberships).toEqual([
      { group: { id: 'group-staff', name: 'Staff' }, member: true },
      { group: { id: 'group-admins', name: 'Admins' }, member: false },
    ]);
    // The snapshot change names the source groups, as a membership event does.
    expect(changeOf(plan.entries, 'ext-alice')?.change.memberships).toEqual([
      { group: STAFF, member: true },
      { group: ADMINS, member: false },
    ]);
    expect(updates()).toBe(0);

    const applied = await runReconcile(deps, connection, { apply: true, yes: true });
    await queue.drain();
    expect(applied.report?.failures).toEqual([]);
    expect(groupsOf('demo-user-1')).toEqual(['group-console', 'group-staff']);
    expect(groupsOf('demo-user-2')).toEqual([]);
    expect(groupsOf('demo-user-3')).toEqual(['group-admins', 'group-staff']);

    const before = updates();
    const again = await runReconcile(deps, setUp().connection, { apply: true });
    await queue.drain();
    expect(summaryLine(again.plan, again.applied)).toBe(
      'RECONCILE connection=workos source_users=3 matched=3 unmatched=0 orphaned=0 changes=0 applied=0',
    );
    expect(updates() - before).toBe(0);
  });

  it('a newer webhook removal wins over the snapshot: held when planned, skipped when applied', async () => {
    const { deps, connection } = setUp();
    const planned = await runReconcile(deps, connection, { apply: false });
    expect(changeOf(planned.plan.entries, 'ext-alice')?.memberships).toContainEqual({
      group: { id: 'group-staff', name: 'Staff' },
      member: true,
    });

    // After the listing (alice's updated_at is 2024-12-31), she left Staff at the source.
    await expect(removedFromStaff('2025-06-01T00:00:00.000Z')).resolves.toMatchObject({
      status: 'applied',
    });
    // Planned now, the webhook's clock holds Staff: shown as held, not planned.
    const again = await runReconcile(deps, connection, { apply: false });
    expect(changeOf(again.plan.entries, 'ext-alice')?.memberships).toEqual([
      { group: { id: 'group-admins', name: 'Admins' }, member: false },
    ]);
    expect(describePlan(again.plan)).toContain(
      'held     ext-alice → demo-user-1  group:Staff (stale)',
    );
    expect(again.plan.counts.held).toBe(1);

    // The plan made before the webhook, applied after it: the consumer decides by the clocks, so
    // the add is stale and skipped while the removal of Admins lands.
    await runReconcile(deps, connection, {
      apply: true,
      yes: true,
      plan: planned.plan,
      applySaved: true,
    });
    await queue.drain();
    expect(groupsOf('demo-user-1')).toEqual(['group-console']);
  });

  it('unmapped: refuse reports the user in an unmapped group as an error, and plans the others', async () => {
    const { deps, connection } = setUp('refuse');
    const { plan } = await runReconcile(deps, connection, { apply: false });
    expect(plan.complete).toBe(true);
    expect(plan.counts).toMatchObject({ sourceUsers: 3, errors: 1, changes: 2 });
    expect(plan.entries).toContainEqual(
      expect.objectContaining({ kind: 'error', externalId: 'ext-bob', code: 'GROUP_NOT_MAPPED' }),
    );
    expect(changeOf(plan.entries, 'ext-alice')).toBeDefined();
  });

  it("a removal whose group maps to nothing at apply time is dropped; the user's fields still apply", async () => {
    // Bob in no source group: his change removes him from group-eng, which only groups.map makes
    // managed.
    standIns.setUsers(
      'workos',
      people().map((person) =>
        workosUserOf(person.id === 'ext-bob' ? { ...person, groups: [] } : person),
      ),
    );
    const planned = setUp('refuse');
    const { plan } = await runReconcile(planned.deps, planned.connection, { apply: false });
    expect(plan.counts).toMatchObject({ sourceUsers: 3, changes: 3, errors: 0 });
    expect(describePlan(plan)).toContain('change   ext-bob → demo-user-2  groups: -group-eng');

    // groups.map loses its entry between plan and apply: the connection no longer manages
    // group-eng, so there is nothing of it to remove; bob's Nickname is applied all the same.
    const applied = await applyWithoutMap(plan, 'refuse');
    expect(applied.report).toEqual({ queued: 3, created: 0, frozen: 0, failures: [] });
    const user = (userId: string) => emulator().store.getUser(EMULATOR_USER_STORE_ID, userId);
    expect(groupsOf('demo-user-1')).toEqual(['group-console', 'group-staff']);
    expect(groupsOf('demo-user-3')).toEqual(['group-admins', 'group-staff']);
    expect(user('demo-user-2')?.Nickname).toBeDefined();
    expect(groupsOf('demo-user-2')).toEqual(['group-eng']);
  });

  it('with unmapped: ignore, an addition whose group maps to nothing at apply time is dropped, not failed', async () => {
    const ENG = { id: ENG_SOURCE_ID, name: 'Eng' };
    standIns.setUsers(
      'workos',
      people().map((person) =>
        workosUserOf(
          person.id === 'ext-alice'
            ? { ...person, groups: [...(person.groups ?? []), ENG] }
            : person,
        ),
      ),
    );
    const planned = setUp('ignore');
    const { plan } = await runReconcile(planned.deps, planned.connection, { apply: false });
    const alice = changeOf(plan.entries, 'ext-alice');
    expect(alice?.memberships).toContainEqual(
      expect.objectContaining({
        group: expect.objectContaining({ id: 'group-eng' }),
        member: true,
      }),
    );
    const applied = await applyWithoutMap(plan, 'ignore');
    expect(applied.report?.failures).toEqual([]);
    // Alice: Staff added, Admins removed as planned; group-eng left out.
    expect(groupsOf('demo-user-1')).toEqual(['group-console', 'group-staff']);
  });

  it('npm run reconcile -- --apply <plan> prints the user whose added group no longer maps, and exits 1', async () => {
    // Alice is also in the source group groups.map sends to group-eng (no CIAM group has its
    // name): her plan adds group-eng; bob's removes it.
    const ENG = { id: ENG_SOURCE_ID, name: 'Eng' };
    standIns.setUsers(
      'workos',
      people().map((person) =>
        workosUserOf(
          person.id === 'ext-bob'
            ? { ...person, groups: [] }
            : person.id === 'ext-alice'
              ? { ...person, groups: [...(person.groups ?? []), ENG] }
              : person,
        ),
      ),
    );
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-groups-'));
    /** config/local.json with the workos connection's groups setting replaced. */
    const configWith = (name: string, map: Record<string, string>) => {
      const config = readJson('config/local.json') as {
        connections: Array<{ id: string; groups?: unknown }>;
      };
      const path = join(dir, name);
      writeFileSync(
        path,
        JSON.stringify({
          ...config,
          connections: config.connections.map((c) =>
            c.id === 'workos' ? { ...c, groups: { map, unmapped: 'refuse' } } : c,
          ),
        }),
      );
      return path;
    };
    const cli = async (config: string, argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runReconcileCli(['--connection', 'workos', '--local', ...argv], {
        env: {
          ADAPTER_CONFIG: config,
          CIAM_EMULATOR_PORT: String(emulator().port),
          SOURCE_APIS_URL: standIns.url,
        },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
      });
      return { code, out, err };
    };
    const planFile = join(dir, 'plan.json');
    const planned = await cli(configWith('planned.json', { [ENG_SOURCE_ID]: 'group-eng' }), [
      '--out',
      planFile,
    ]);
    expect(planned.code).toBe(0);
    expect(planned.out).toContain('change   ext-bob → demo-user-2  groups: -group-eng');

    // Applied with the map entry gone: alice's addition maps to nothing under `refuse` and fails
    // her whole change; bob's removal is dropped and his fields apply.
    const applied = await cli(configWith('changed.json', {}), ['--apply', planFile, '--yes']);
    expect(applied.err).toEqual(['not applied: change ext-alice GROUP_NOT_MAPPED']);
    expect(applied.out).toContain('applied: 2 queued, 0 created, 0 frozen');
    expect(applied.code).toBe(1);
    expect(groupsOf('demo-user-1')).toEqual(['group-admins', 'group-console']);
    expect(groupsOf('demo-user-2')).toEqual(['group-eng']);
    expect(groupsOf('demo-user-3')).toEqual(['group-admins', 'group-staff']);
  });
});

describe('reconciling WorkOS group memberships: a CIAM group deleted between plan and apply', () => {
  // The plan is made against `planned`; CIAM as it is when the plan is applied, in a later
  // process (`--apply <file>`: no group lookups cached), is `deleted`: Admins is gone, and with it
  // alice's membership of it.
  const planned = useEmulator({ seed, rateLimit: 1000 });
  const withoutAdmins: Seed = {
    ...seed,
    userStores: seed.userStores.map((store) =>
      store.UserStoreId !== EMULATOR_USER_STORE_ID
        ? store
        : {
            ...store,
            UserGroups: (store.UserGroups ?? []).filter((g) => g.UserGroupId !== 'group-admins'),
            Users: (store.Users ?? []).map((user) =>
              user.UserGroups === undefined
                ? user
                : { ...user, UserGroups: user.UserGroups.filter((g) => g !== 'group-admins') },
            ),
          },
    ),
  };
  const deleted = useEmulator({ seed: withoutAdmins, rateLimit: 1000 });
  const env = (url: string) => ({
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000',
  });
  const connectionOf = (url: string, queue?: ReconcileQueue) => {
    const runtime = createRuntime(env(url), { recordOutcome: () => {}, logger });
    const deps = {
      ...reconcileDeps(runtime, {
        sourceApisUrl: standIns.url,
        sleep: async () => {},
        recordDrift: () => {},
      }),
      ...(queue === undefined ? {} : { queue: queue.queue }),
    };
    const found = deps.connection('workos');
    const connection: ReconcileConnection = {
      ...found,
      target: {
        ...found.target,
        groups: { map: { [ENG_SOURCE_ID]: 'group-eng' }, unmapped: 'refuse' },
      },
    };
    return { deps, connection };
  };

  it('fails the users it was to be added to (GROUP_NOT_MAPPED), drops removals from it, and applies the others', async () => {
    standIns.setUsers(
      'workos',
      people().map((person) =>
        workosUserOf(person.id === 'ext-bob' ? { ...person, groups: [] } : person),
      ),
    );
    const before = connectionOf(planned().url);
    const { plan } = await runReconcile(before.deps, before.connection, { apply: false });
    expect(plan.counts).toMatchObject({ sourceUsers: 3, changes: 3, errors: 0 });
    const lines = describePlan(plan);
    expect(lines).toContain('change   ext-alice → demo-user-1  groups: +Staff, -Admins');
    expect(lines).toContain('change   ext-carol → demo-user-3  groups: +Admins, +Staff');

    const queue = startReconcileQueue({
      env: env(deleted().url),
      overrides: { logger },
      ratePerSecond: 1000,
    });
    try {
      const after = connectionOf(deleted().url, queue);
      const applied = await runReconcile(after.deps, after.connection, {
        apply: true,
        yes: true,
        plan,
        applySaved: true,
      });
      await queue.drain();
      expect(applied.report).toEqual({
        queued: 2,
        created: 0,
        frozen: 0,
        failures: [{ kind: 'change', id: 'ext-carol', code: 'GROUP_NOT_MAPPED' }],
      });
    } finally {
      await queue.stop();
    }
    const store = deleted().store;
    const written = deleted()
      .calls.filter((call) => call.action === 'UpdateUser')
      .map((call) => (JSON.parse(call.body) as { UserId?: string }).UserId);
    expect(written.sort()).toEqual(['demo-user-1', 'demo-user-2']);
    // Bob: his Nickname and his removal from group-eng, as planned.
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-2')?.Nickname).toBeDefined();
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-2')?.UserGroups ?? []).toEqual([]);
    // Alice: her -Admins dropped (the group is gone), her +Staff and fields applied.
    expect(
      [...(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.UserGroups ?? [])].sort(),
    ).toEqual(['group-console', 'group-staff']);
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.Nickname).toBeDefined();
    // Carol as she was.
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-3')?.UserGroups).toBeUndefined();
  });
});
