/**
 * Reconciliation at scale against the emulator, with CIAM's limit of 20 requests/second per
 * action: list 10,000 source users through the real Clerk client from `npm start`'s stand-in of
 * Clerk's Backend API (local/source-apis.ts, over HTTP), plan them (CIAM calls per planned user,
 * wall time), apply the plan through the in-process FIFO queue and the real consumer (calls and
 * wall time against the 20/s bound), then plan and apply again (no UpdateUser). A benchmark: it
 * prints figures, it asserts nothing. Run with `npm run bench:reconcile`; BENCH_RECONCILE_USERS
 * (10000), BENCH_RECONCILE_DRIFT (200 users whose nickname differs), BENCH_RECONCILE_UNMATCHED
 * (50) and BENCH_RECONCILE_ORPHANS (50) change its shape.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SeedUser } from '../emulator/seed.ts';
import { startEmulator } from '../emulator/server.ts';
import { connectionTag, encodeClocks } from '../lib/ciam/field-clocks.ts';
import { type ReconcileConnection, runReconcile } from '../lib/reconcile/run.ts';
import { summaryLine } from '../lib/reconcile/runner.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { reconcileDeps } from '../lib/runtime/reconcile.ts';
import { startReconcileQueue } from '../local/reconcile.ts';
import { ciamSeedUsersOf, clerkUserOf, syntheticPeople } from '../local/source-api-users.ts';
import { startSourceApiStandIns } from '../local/source-apis.ts';

const env = process.env;
const USERS = Number(env.BENCH_RECONCILE_USERS ?? 10_000);
const DRIFT = Number(env.BENCH_RECONCILE_DRIFT ?? 200);
const UNMATCHED = Number(env.BENCH_RECONCILE_UNMATCHED ?? 50);
const ORPHANS = Number(env.BENCH_RECONCILE_ORPHANS ?? 50);
const RATE = 20;
const STORE = 'local-store';
const AT = '2026-01-01T00:00:00.000Z';

// The source lists USERS people; CIAM holds all but the last UNMATCHED of them (the first DRIFT
// with an older nickname), and ORPHANS users this connection once wrote (their clocks name it)
// that the source no longer lists.
const people = syntheticPeople(USERS);
const matched = USERS - UNMATCHED;
const orphanClock = encodeClocks(
  new Map([
    [
      'Nickname',
      { at: Date.parse(AT) - 86_400_000, connection: connectionTag('clerk'), event: 'AAAAAAAA' },
    ],
  ]),
);
const ciamUsers: SeedUser[] = [
  ...ciamSeedUsersOf(people.slice(0, matched)).map((user, i) =>
    i < DRIFT ? { ...user, Nickname: 'Old Name' } : user,
  ),
  ...Array.from({ length: ORPHANS }, (_, i) => ({
    UserId: `gone${i}`,
    UserName: `gone${i}`,
    Email: `gone${i}@example.com`,
    IndexedAttribute1: `ext_gone_${i}`,
    CustomAttributes: [{ Name: 'adapter_field_clocks', Value: orphanClock }],
  })),
];
const standIns = await startSourceApiStandIns({ users: { clerk: people.map(clerkUserOf) } });

const emulator = await startEmulator({
  rateLimit: RATE,
  seed: {
    credentials: [{ SecretId: 'AKIDlocaldemo', SecretKey: 'localdemosecret' }],
    userStores: [{ UserStoreId: STORE, Users: ciamUsers }],
  },
});
const runtimeEnv = {
  ADAPTER_CONFIG: 'config/local.json',
  ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
  CIAM_ENDPOINT: emulator.url,
  CIAM_RATE_LIMIT_PER_SECOND: String(RATE),
  CIAM_RATE_LIMIT_MAX_WAIT_MS: '600000',
};
const logger = new Logger({ logLevel: 'ERROR' });
const runtime = createRuntime(runtimeEnv, { recordOutcome: () => {}, logger });
const queue = startReconcileQueue({ env: runtimeEnv, overrides: { logger }, ratePerSecond: RATE });
const deps = {
  ...reconcileDeps(runtime, { sourceApisUrl: standIns.url, recordDrift: () => {} }),
  queue: queue.queue,
};
const connection: ReconcileConnection = deps.connection('clerk');

const callsSince = (from: number) => {
  const counts = new Map<string, number>();
  for (const call of emulator.calls.slice(from)) {
    counts.set(call.action, (counts.get(call.action) ?? 0) + 1);
  }
  return counts;
};
const show = (counts: Map<string, number>) =>
  [...counts].map(([action, n]) => `${action} ${n}`).join(', ') || 'none';

console.log(
  `bench:reconcile: ${USERS} source users listed by the Clerk client (lib/source-apis) from the Clerk stand-in at ${standIns.url}/clerk, CIAM emulator at ${RATE} requests/s per action`,
);
console.log(
  `  CIAM: ${ciamUsers.length} users (${matched} of the source's, ${ORPHANS} orphans); drift: ${DRIFT} nicknames, ${UNMATCHED} unmatched`,
);

// Plan only.
let mark = emulator.calls.length;
let started = performance.now();
const planned = await runReconcile(deps, connection, { apply: false });
const planMs = performance.now() - started;
const planCalls = callsSince(mark);
const planTotal = [...planCalls.values()].reduce((a, b) => a + b, 0);
const clerkRequests = standIns.stats().requests.clerk;
console.log(`\nplan      ${summaryLine(planned.plan, 0)}`);
console.log(`  source: ${clerkRequests} Clerk requests, ${planned.plan.pages} pages`);
console.log(
  `  CIAM calls: ${planTotal} (${show(planCalls)}) = ${(planTotal / USERS).toFixed(4)} per planned user (goal ≤ 0.02); wall ${(planMs / 1000).toFixed(2)} s`,
);

// Apply: plan again and queue; the consumer applies at CIAM's rate.
mark = emulator.calls.length;
started = performance.now();
const applied = await runReconcile(deps, connection, { apply: true });
const queuedMs = performance.now() - started;
await queue.drain();
const applyMs = performance.now() - started;
const applyCalls = callsSince(mark);
applyCalls.set('DescribeUser', (applyCalls.get('DescribeUser') ?? 0) - planTotal);
const busiest = Math.max(...[...applyCalls.values()]);
const boundMs = (busiest / RATE) * 1000;
// The same plan again costs what the first did; what is left is queueing and applying.
const applyOnlyMs = applyMs - planMs;
console.log(`\napply     ${summaryLine(applied.plan, applied.applied)}`);
console.log(
  `  CIAM calls after planning: ${show(applyCalls)}; queued in ${(queuedMs / 1000).toFixed(2)} s, applied in ${(applyMs / 1000).toFixed(2)} s (plan included)`,
);
console.log(
  `  bound: ${busiest} calls of one action at ${RATE}/s = ${(boundMs / 1000).toFixed(2)} s; apply wall (less planning) ${(applyOnlyMs / 1000).toFixed(2)} s = ${(applyOnlyMs / boundMs).toFixed(2)} × the bound`,
);
console.log(
  `  dead letters: ${queue.deadLetterQueue.stats().total}; orphans reported: ${applied.plan.counts.orphaned} (not frozen: orphans 'report')`,
);

// A second apply right after: nothing differs, no UpdateUser.
mark = emulator.calls.length;
started = performance.now();
const again = await runReconcile(deps, connection, { apply: true });
await queue.drain();
const againMs = performance.now() - started;
const againCalls = callsSince(mark);
console.log(`\nagain     ${summaryLine(again.plan, again.applied)}`);
console.log(
  `  CIAM calls: ${show(againCalls)}; UpdateUser ${againCalls.get('UpdateUser') ?? 0}; wall ${(againMs / 1000).toFixed(2)} s`,
);

await queue.stop();
await emulator.close();
await standIns.close();
