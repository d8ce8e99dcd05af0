import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Seed } from '../../emulator/server.ts';
import { applyUpdate } from '../../lib/ciam/apply.ts';
import { applyTargetsOf } from '../../lib/delivery/delivery.ts';
import { readPlanFile, writePlanFile } from '../../lib/reconcile/plan.ts';
import { type ReconcileConnection, runReconcile } from '../../lib/reconcile/run.ts';
import { describePlan, planReconcile, summaryLine } from '../../lib/reconcile/runner.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import type { SourceUser } from '../../lib/source-apis/types.ts';
import {
  createMemoryLister,
  type ReconcileQueue,
  sourceUser,
  startReconcileQueue,
} from '../../local/reconcile.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-02-01T00:00:00.000Z';

const seed: Seed = {
  credentials: [
    { SecretId: EMULATOR_CREDENTIALS.secretId, SecretKey: EMULATOR_CREDENTIALS.secretKey },
  ],
  userStores: [
    {
      UserStoreId: EMULATOR_USER_STORE_ID,
      Users: [
        {
          UserId: 'user-1',
          UserName: 'alice',
          Email: 'alice@example.com',
          IndexedAttribute1: 'ext_1',
        },
        { UserId: 'user-2', UserName: 'bob', Email: 'bob@example.com', IndexedAttribute1: 'ext_2' },
        // Another connection's user, never written through this one: never an orphan of it.
        { UserId: 'user-9', UserName: 'zed', Email: 'zed@example.com', IndexedAttribute1: 'wos_9' },
      ],
    },
  ],
};

const alice = (email = 'alice.new@example.com', at = T1) =>
  sourceUser('clerk', 'ext_1', at, { email });
const bob = () => sourceUser('clerk', 'ext_2', T1, { email: 'bob@example.com' });
const carol = () =>
  sourceUser('clerk', 'ext_3', T1, {
    email: 'carol@example.com',
    userName: 'carol',
    phone: '+6580000003',
  });

describe('reconciliation against the emulator', () => {
  const emulator = useEmulator({ seed, rateLimit: 1000 }, { resetBeforeEach: true });
  let runtime: Runtime;
  let queue: ReconcileQueue;
  let dir: string;
  const env = () => ({
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator().url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000',
  });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reconcile-'));
  });
  // A fresh queue and runtime per test: SQS drops a resent snapshot change within five minutes
  // (its deduplication id), and cached lookups would outlive the emulator's reset.
  beforeEach(() => {
    runtime = createRuntime(env(), {
      recordOutcome: () => {},
      logger: new Logger({ logLevel: 'SILENT' }),
    });
    queue = startReconcileQueue({
      env: env(),
      overrides: { logger: new Logger({ logLevel: 'SILENT' }) },
      ratePerSecond: 1000,
    });
  });
  afterEach(async () => {
    await queue.stop();
  });

  const setUp = (users: SourceUser[], reconcile: Record<string, unknown> = {}, pageSize = 100) => {
    const lister = createMemoryLister(users, { pageSize });
    const deps = {
      ...reconcileDeps(runtime, { lister, recordDrift: () => {} }),
      queue: queue.queue,
    };
    const found = deps.connection('clerk');
    const connection: ReconcileConnection = {
      ...found,
      target: { ...found.target, reconcile: { api: { kind: 'clerk' }, ...reconcile } },
    };
    return { deps, connection, lister };
  };
  const calls = (action: string) =>
    emulator().calls.filter((call) => call.action === action).length;
  const user = (id: string) => emulator().store.getUser(EMULATOR_USER_STORE_ID, id);

  it('plans with one DescribeUser page: matched, unmatched and changes, values masked', async () => {
    const { deps, connection } = setUp([alice(), bob(), carol()]);
    const { plan, applied } = await runReconcile(deps, connection, { apply: false });

    expect(summaryLine(plan, applied)).toBe(
      'RECONCILE connection=clerk source_users=3 matched=2 unmatched=1 orphaned=0 changes=1 applied=0',
    );
    expect(calls('DescribeUser')).toBe(1);
    expect(calls('DescribeUserById') + calls('ListUserByProperty') + calls('UpdateUser')).toBe(0);
    const lines = describePlan(plan);
    expect(lines).toContain(
      'change   ext_1 → user-1  Email: al***@example.com → al***@example.com',
    );
    expect(lines).toContain('unmatched ext_3  (no CIAM user)');
    expect(lines.join('\n')).not.toMatch(/alice|carol@/);
    expect(user('user-1')?.Email).toBe('alice@example.com');
  });

  it('applies through the FIFO queue; a second apply right after makes no UpdateUser call', async () => {
    const { deps, connection } = setUp([alice(), bob()]);
    const first = await runReconcile(deps, connection, { apply: true });
    await queue.drain();
    expect(first.applied).toBe(1);
    expect(user('user-1')?.Email).toBe('alice.new@example.com');
    expect(calls('UpdateUser')).toBe(1);

    const second = await runReconcile(deps, connection, { apply: true });
    await queue.drain();
    expect(summaryLine(second.plan, second.applied)).toBe(
      'RECONCILE connection=clerk source_users=2 matched=2 unmatched=0 orphaned=0 changes=0 applied=0',
    );
    expect(calls('UpdateUser')).toBe(1);
  });

  it('stops above the threshold until --yes', async () => {
    const { deps, connection } = setUp([alice(), bob()]);
    const refused = await runReconcile(deps, connection, { apply: true, maxChanges: 0 });
    await queue.drain();
    expect(refused).toMatchObject({ refused: 'threshold', applied: 0, threshold: 0, actions: 1 });
    expect(calls('UpdateUser')).toBe(0);
    expect(queue.queue.stats().total).toBe(0);

    const yes = await runReconcile(deps, connection, { apply: true, maxChanges: 0, yes: true });
    await queue.drain();
    expect(yes.applied).toBe(1);
    expect(user('user-1')?.Email).toBe('alice.new@example.com');
  });

  it('keeps a webhook change that landed after the source was read', async () => {
    const { deps, connection } = setUp([alice('alice.snapshot@example.com', T1), bob()]);
    const { plan } = await runReconcile(deps, connection, { apply: false });
    expect(plan.counts.changes).toBe(1);

    // A webhook newer than the source's updated_at arrives before the plan is applied.
    const target = applyTargetsOf(runtime.config).get('clerk');
    if (target === undefined) throw new Error('no clerk target');
    await applyUpdate(
      {
        ciam: runtime.tenants.byId('default').ciam,
        resolver: runtime.tenants.byId('default').resolver,
      },
      target,
      {
        change: {
          eventId: 'msg_webhook',
          eventType: 'user.updated',
          occurredAt: T2,
          subject: { externalId: 'ext_1' },
        },
        draft: { UserStoreId: EMULATOR_USER_STORE_ID, Email: 'alice.webhook@example.com' },
      },
    );
    const updatesBefore = calls('UpdateUser');
    const applied = await runReconcile(deps, connection, { apply: true, plan, applySaved: true });
    await queue.drain();
    expect(applied.applied).toBe(1);
    expect(user('user-1')?.Email).toBe('alice.webhook@example.com');
    expect(calls('UpdateUser')).toBe(updatesBefore);
  });

  it('reports orphans this connection wrote, and freezes them only when asked', async () => {
    const { deps, connection } = setUp([alice(), bob()]);
    await runReconcile(deps, connection, { apply: true });
    await queue.drain();

    // ext_1 leaves the source: user-1, written through this connection, is an orphan; user-2 (never
    // written by it) and user-9 (another connection's) are not.
    const report = setUp([bob()]);
    const reported = await runReconcile(report.deps, report.connection, { apply: true });
    expect(reported.plan.entries.filter((e) => e.kind === 'orphaned')).toEqual([
      { kind: 'orphaned', userId: 'user-1' },
    ]);
    expect(calls('UpdateUserStatus')).toBe(0);

    const freeze = setUp([bob()], { orphans: 'freeze' });
    const frozen = await runReconcile(freeze.deps, freeze.connection, { apply: true });
    expect(frozen.report?.frozen).toBe(1);
    expect(user('user-1')?.Status).toBe('FREEZE');
    const again = await runReconcile(freeze.deps, freeze.connection, { apply: true });
    expect(again.applied).toBe(0);
    expect(calls('UpdateUserStatus')).toBe(1);
  });

  it('creates unmatched users only where the connection allows it', async () => {
    const off = setUp([bob(), carol()]);
    const reported = await runReconcile(off.deps, off.connection, { apply: true });
    expect(reported.plan.counts.unmatched).toBe(1);
    expect(calls('CreateUser')).toBe(0);

    const on = setUp([bob(), carol()], { createUnmatched: true });
    const created = await runReconcile(on.deps, on.connection, { apply: true });
    expect(created.report?.created).toBe(1);
    const carolNow = emulator()
      .store.listUsers(EMULATOR_USER_STORE_ID)
      .find((u) => u.IndexedAttribute1 === 'ext_3');
    expect(carolNow?.Email).toBe('carol@example.com');
    const next = await runReconcile(on.deps, on.connection, { apply: true });
    expect(next.plan.counts).toMatchObject({ unmatched: 0, changes: 0, matched: 2 });
    expect(calls('CreateUser')).toBe(1);
  });

  it('stops on a source failure with a resumable plan that is never applied', async () => {
    const users = [alice(), bob(), carol()];
    const lister = createMemoryLister(users, { pageSize: 1, failFromPage: 1 });
    const { deps, connection } = setUp(users);
    const path = join(dir, 'clerk.json');
    const broken = await runReconcile(
      deps,
      { ...connection, lister },
      { apply: true, checkpoint: (plan) => writePlanFile(path, plan) },
    );
    expect(broken.refused).toBe('incomplete');
    expect(broken.plan).toMatchObject({
      complete: false,
      cursor: '1',
      pages: 1,
      error: { code: 'SOURCE_UNAVAILABLE' },
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readPlanFile(path)).toMatchObject({ complete: false, cursor: '1' });
    expect(calls('UpdateUser')).toBe(0);
    expect(queue.queue.stats().total).toBe(0);

    lister.recover();
    const resumed = await planReconcile(
      { ...deps, ...connection, lister },
      { resume: readPlanFile(path) },
    );
    expect(lister.calls).toBe(4);
    expect(summaryLine(resumed, 0)).toBe(
      'RECONCILE connection=clerk source_users=3 matched=2 unmatched=1 orphaned=0 changes=1 applied=0',
    );
    expect(resumed.complete).toBe(true);
  });
});
