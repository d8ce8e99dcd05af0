import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Seed } from '../../emulator/server.ts';
import type { Connection } from '../../lib/config/types.ts';
import { applyTargetsOf } from '../../lib/delivery/delivery.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { readPlanFile, writePlanFile } from '../../lib/reconcile/plan.ts';
import { type ReconcileConnection, runReconcile } from '../../lib/reconcile/run.ts';
import { summaryLine } from '../../lib/reconcile/runner.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import { createSourceUserLister } from '../../lib/source-apis/index.ts';
import { createLocalFifoQueue } from '../../local/fifo-queue.ts';
import {
  API_USER_OF,
  ciamSeedUsersOf,
  DEPROVISIONED_PERSON,
  demoUsers,
  oktaUserOf,
  type SourceApiName,
  syntheticPeople,
} from '../../local/source-api-users.ts';
import {
  type SourceApiStandIns,
  type StandInFaults,
  startSourceApiStandIns,
} from '../../local/source-apis.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';
import { readJson } from '../helpers/files.ts';
import { fakeClock, standInConnection, standInContext } from '../helpers/source-apis.ts';

// Reconciliation end to end through the sources' real user API clients, against `npm start`'s
// stand-ins of those APIs (local/source-apis.ts) and the CIAM emulator, both over real HTTP.

const ROOT = new URL('../../', import.meta.url).pathname;
const logger = new Logger({ logLevel: 'SILENT' });

let standIns: SourceApiStandIns;
beforeAll(async () => {
  standIns = await startSourceApiStandIns();
});
afterAll(() => standIns.close());
afterEach(() => {
  standIns.clearFaults();
});

/** `npm run reconcile -- …` in a child process; its exit status, output and last line. */
const npmReconcile = async (args: string[], env: Record<string, string>) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'reconcile', '--', ...args],
      { cwd: ROOT, env: { ...process.env, ...env } },
    );
    return { code: 0, stdout, stderr, last: stdout.trim().split('\n').at(-1) };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { ...failed, last: failed.stdout.trim().split('\n').at(-1) };
  }
};

describe('npm run reconcile -- --connection clerk --local, against the stand-ins', () => {
  // The demo seed: CIAM's demo users hold other phones than the stand-ins' Clerk users, and has
  // no ext-dave.
  const emulator = useEmulator({ rateLimit: 1000 });
  const env = () => ({
    CIAM_EMULATOR_PORT: String(emulator().port),
    SOURCE_APIS_PORT: new URL(standIns.url).port,
  });
  const count = (action: string, from = 0) =>
    emulator()
      .calls.slice(from)
      .filter((call) => call.action === action).length;

  it("plans the stand-ins' drift, applies it, and a second apply makes no UpdateUser call", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-stand-ins-'));
    const planned = await npmReconcile(
      ['--connection', 'clerk', '--local', '--out', join(dir, 'plan.json')],
      env(),
    );
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(
      'change   ext-alice → demo-user-1  PhoneNumber: +65******67 → +65******61',
    );
    expect(planned.stdout).toContain(
      'change   ext-bob → demo-user-2  PhoneNumber: +65******68 → +65******62',
    );
    expect(planned.stdout).toContain('unmatched ext-dave  (no CIAM user)');
    expect(planned.stdout).not.toContain('+6591234561');
    const lines = planned.stdout.trim().split('\n');
    expect(lines.at(-2)).toBe('filtered=0 deprovisioned=0 duplicates=0 errors=0 held=0');
    expect(planned.last).toBe(
      'RECONCILE connection=clerk source_users=4 matched=3 unmatched=1 orphaned=0 changes=3 applied=0',
    );
    expect(count('UpdateUser')).toBe(0);
    expect(standIns.stats().pages.clerk).toBeGreaterThan(0);

    const applied = await npmReconcile(
      ['--connection', 'clerk', '--local', '--apply', '--yes', '--out', join(dir, 'apply.json')],
      env(),
    );
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.last).toBe(
      'RECONCILE connection=clerk source_users=4 matched=3 unmatched=1 orphaned=0 changes=3 applied=3',
    );
    expect(count('UpdateUser')).toBe(3);
    expect(emulator().store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.PhoneNumber).toBe(
      '+6591234561',
    );

    const mark = emulator().calls.length;
    const again = await npmReconcile(
      ['--connection', 'clerk', '--local', '--apply', '--out', join(dir, 'again.json')],
      env(),
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.last).toBe(
      'RECONCILE connection=clerk source_users=4 matched=3 unmatched=1 orphaned=0 changes=0 applied=0',
    );
    expect(count('UpdateUser', mark)).toBe(0);
  });

  it('workos: the first import also joins the demo users to the groups the directory lists', async () => {
    standIns.setUsers('workos', demoUsers().workos);
    const dir = mkdtempSync(join(tmpdir(), 'reconcile-stand-ins-'));
    const planned = await npmReconcile(
      ['--connection', 'workos', '--local', '--out', join(dir, 'workos.json')],
      env(),
    );
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain('change   ext-alice → demo-user-1  groups: +Staff');
    expect(planned.stdout).toContain('change   ext-carol → demo-user-3  groups: +Admins, +Staff');
  });
});

describe('planning through each real client', () => {
  const people = syntheticPeople(1_100);
  // CIAM holds every synthetic person; every 100th with an older nickname.
  const emulator = useEmulator({
    rateLimit: 1000,
    seed: {
      credentials: [
        { SecretId: EMULATOR_CREDENTIALS.secretId, SecretKey: EMULATOR_CREDENTIALS.secretKey },
      ],
      userStores: [{ UserStoreId: EMULATOR_USER_STORE_ID, Users: ciamSeedUsersOf(people, 100) }],
    },
  });
  const deps = () =>
    reconcileDeps(
      createRuntime(
        {
          ADAPTER_CONFIG: 'config/local.json',
          ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
          CIAM_ENDPOINT: emulator().url,
          CIAM_RATE_LIMIT_PER_SECOND: '1000',
        },
        { recordOutcome: () => {}, logger },
      ),
      { sourceApisUrl: standIns.url, sleep: async () => {}, recordDrift: () => {} },
    );

  it.each<[SourceApiName, string, number]>([
    ['workos', 'directory users, pages of 100', 11],
    // Auth0's `nickname` is the user name, which the CIAM seed's nicknames are not: all differ.
    ['auth0', 'more than 1,000 users: the gzip export job', 1_100],
  ])('%s: %s', async (api, _how, changes) => {
    standIns.setUsers(api, people.map(API_USER_OF[api]));
    standIns.resetStats();
    const built = deps();
    const { plan } = await runReconcile(built, built.connection(api), { apply: false });
    expect(plan.complete).toBe(true);
    expect(plan.counts).toMatchObject({ sourceUsers: 1_100, matched: 1_100, unmatched: 0 });
    expect(plan.counts).toMatchObject({ changes, duplicates: 0, errors: 0 });
    const changed = plan.entries.flatMap((entry) =>
      entry.kind === 'change' ? [entry.externalId] : [],
    );
    expect(new Set(changed).size).toBe(changes);
    expect(changed).toContain(people[0]?.id);
    // One CIAM call per 100 users planned: the snapshot's pages.
    expect(plan.counts.ciamCalls).toBe(11);
    const stats = standIns.stats();
    expect(stats.pages[api]).toBeGreaterThan(0);
    if (api === 'auth0') expect(stats.auth0Exports).toBe(1);
  });
});

describe('a source failing mid-way leaves a plan that --resume completes', () => {
  const emulator = useEmulator({ rateLimit: 1000 });
  // config/local.json with the clerk stand-in listed two users a page: the demo's four are pages.
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-resume-'));
  const configPath = join(dir, 'config.json');
  const config = readJson('config/local.json') as {
    connections: Array<{ id: string; reconcile?: { api: Record<string, unknown> } }>;
  };
  for (const connection of config.connections) {
    if (connection.id === 'clerk' && connection.reconcile !== undefined) {
      connection.reconcile.api.pageSize = 2;
    }
  }
  writeFileSync(configPath, JSON.stringify(config));

  it.each<[string, StandInFaults, string, number]>([
    ['a 500 after the first page', { failAfterPages: 1 }, 'SOURCE_API_FAILED', 1],
    ['a storm of 429s', { storm: 50, retryAfterSeconds: 1 }, 'SOURCE_API_RATE_LIMITED', 0],
  ])('%s', async (_name, faults, code, pages) => {
    standIns.setUsers('clerk', demoUsers().clerk);
    const runtimeEnv = {
      ADAPTER_CONFIG: configPath,
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: emulator().url,
    };
    const built = reconcileDeps(createRuntime(runtimeEnv, { recordOutcome: () => {}, logger }), {
      sourceApisUrl: standIns.url,
      // The listers wait out 429s and back off on 500s; here no time passes.
      sleep: async () => {},
      recordDrift: () => {},
    });
    const path = join(dir, `${code}.json`);
    standIns.fault('clerk', faults);
    const broken = await runReconcile(built, built.connection('clerk'), {
      apply: true,
      checkpoint: (plan) => writePlanFile(path, plan),
    });
    expect(broken.refused).toBe('incomplete');
    expect(broken.applied).toBe(0);
    expect(readPlanFile(path)).toMatchObject({ complete: false, pages, error: { code } });
    expect(emulator().calls.filter((call) => call.action === 'UpdateUser')).toHaveLength(0);

    standIns.clearFaults();
    const resumed = await npmReconcile(['--connection', 'clerk', '--local', '--resume', path], {
      ADAPTER_CONFIG: configPath,
      CIAM_EMULATOR_PORT: String(emulator().port),
      SOURCE_APIS_URL: standIns.url,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.last).toBe(
      'RECONCILE connection=clerk source_users=4 matched=3 unmatched=1 orphaned=0 changes=3 applied=0',
    );
    expect(readPlanFile(path)).toMatchObject({ complete: true, pages: 3 });
  });
});

describe('okta: a deprovisioned user through the real client', () => {
  // The demo seed plus ext-erin, whom the Okta stand-in lists as DEPROVISIONED.
  const seed = readJson('emulator/seed.json') as Seed;
  const stores = seed.userStores.map((store) =>
    store.UserStoreId === EMULATOR_USER_STORE_ID
      ? {
          ...store,
          Users: [
            ...(store.Users ?? []),
            {
              UserId: 'demo-user-5',
              UserName: 'erin',
              Email: 'erin@example.com',
              Nickname: 'Erin Old',
              IndexedAttribute1: 'ext-erin',
            },
          ],
        }
      : store,
  );
  const emulator = useEmulator({ rateLimit: 1000, seed: { ...seed, userStores: stores } });

  it('is reported with the orphans, frozen under orphans: freeze, and never updated', async () => {
    standIns.setUsers('okta', [oktaUserOf(DEPROVISIONED_PERSON)]);
    const config = {
      ...standInConnection(standIns, 'okta'),
      id: 'okta',
    };
    const okta: Connection = {
      ...config,
      reconcile: { api: config.reconcile?.api ?? { kind: 'okta' }, orphans: 'freeze' },
    };
    const runtime = createRuntime(
      {
        ADAPTER_CONFIG: 'config/local.json',
        ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
        CIAM_ENDPOINT: emulator().url,
      },
      { recordOutcome: () => {}, logger },
    );
    const guard = applyTargetsOf({ ...runtime.config, connections: [okta] }).get('okta')?.guard;
    const connection: ReconcileConnection = {
      target: { ...okta, guard },
      mapper: compileMapping(okta),
      lister: createSourceUserLister(okta, standInContext(fakeClock())),
      ciam: runtime.tenants.byId('default').ciam,
      resolver: runtime.tenants.byId('default').resolver,
    };
    // Nothing to queue: a deprovisioned user gets no attribute change.
    const queue = createLocalFifoQueue({
      name: 'okta.fifo',
      now: Date.now,
      visibilityTimeoutSeconds: 30,
    });
    const outcome = await runReconcile({ queue, now: Date.now }, connection, { apply: true });
    expect(summaryLine(outcome.plan, outcome.applied)).toBe(
      'RECONCILE connection=okta source_users=1 matched=0 unmatched=0 orphaned=1 changes=0 applied=1',
    );
    expect(outcome.plan.counts.deprovisioned).toBe(1);
    expect(outcome.plan.entries).toEqual([
      {
        kind: 'orphaned',
        userId: 'demo-user-5',
        reason: 'deprovisioned',
        externalId: 'ext-erin',
      },
    ]);
    expect(queue.stats().total).toBe(0);
    const actions = emulator().calls.map((call) => call.action);
    expect(actions).not.toContain('UpdateUser');
    expect(actions.filter((action) => action === 'UpdateUserStatus')).toHaveLength(1);
    expect(emulator().store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-5')).toMatchObject({
      Status: 'FREEZE',
      Nickname: 'Erin Old',
    });
  });
});
