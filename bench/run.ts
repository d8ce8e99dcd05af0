// `npm run bench`: the adapter's webhook function against bench/baseline (middy + official Tencent
// SDK), both bundled as serverless.yml bundles. Prints a table and a last line `BENCH {json}`.
// Ratios, not absolute times: adapter / baseline measured in the same run. A benchmark, not a test.
//
// Figures: (1) init above bare Node, interleaved fresh processes; size; (3) warm CPU per webhook,
// in process and over loopback HTTP: Clerk for both (the headline ratios), Clerk with the
// adapter's stale-event guard off (one CIAM call per webhook, as the baseline), then the adapter's
// other demo sources (workos, auth0, hmac), each against the baseline's Clerk figure since the
// baseline handles Clerk only; (4) sync latency over loopback HTTP with the emulator delaying every
// CIAM call: end-to-end time minus the delay × the CIAM calls that request made (counted by the
// emulator), i.e. what the function itself adds; (6) signer, (7) queue (their own benchmarks).
// Secrets: the baseline reads Secrets Manager (a fake, through the SDK); the adapter is also
// offered a fake Parameters and Secrets extension. A line says what each side was served.
// Knobs: BENCH_INIT_RUNS, BENCH_WARM, BENCH_SYNC (requests per side), BENCH_SYNC_LATENCY_MS,
// BENCH_SKIP_QUEUE=1, BENCH_QUEUE_WINDOW_MS, BENCH_PROFILE_DIR.
//
// This file runs the phases in order; bench/measure/ measures, bench/report.ts writes the text.
// On a terminal, stderr shows which phase is running (scripts/progress.ts); stdout is the report.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createProgress } from '../scripts/progress.ts';
import { buildOne } from './build.ts';
import { measureInit } from './measure/init.ts';
import { queueLine, signLine } from './measure/others.ts';
import { startServices, UNGUARDED } from './measure/services.ts';
import { measureSync } from './measure/sync.ts';
import { clerkEventMaker, inproc, overHttp, type WarmOptions } from './measure/warm.ts';
import { benchResult, type Kind, reportLines, type WarmPair } from './report.ts';
import {
  BENCH_SOURCES,
  type BenchRequest,
  type BenchSource,
  sourceEvents,
} from './source-events.ts';

const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 15);
const WARM = Number(process.env.BENCH_WARM ?? 2000);
const WARMUP = 200;
const USERS = 100;
const QUEUE_WINDOW_MS = Number(process.env.BENCH_QUEUE_WINDOW_MS ?? 10_000);
const SYNC_N = Number(process.env.BENCH_SYNC ?? 200);
const SYNC_LATENCY_MS = Number(process.env.BENCH_SYNC_LATENCY_MS ?? 50);

const progress = createProgress();

progress.update('building the adapter and the baseline');
const adapter = await buildOne('adapter', 'handlers/webhook.ts', ['config/local.json']);
const baseline = await buildOne('baseline', 'bench/baseline/handler.ts');

const services = await startServices({ users: USERS });
const { env, as } = services;

// --- (1) init ---
const init = measureInit(
  { adapter: adapter.bundle, baseline: baseline.bundle },
  { runs: INIT_RUNS, env, progress },
);

// --- (3) warm CPU per webhook ---
const clerkEvents = clerkEventMaker(USERS);
const otherSources = sourceEvents(services.users);
const warmOptions: WarmOptions = {
  env,
  dir: services.dir,
  warmup: WARMUP,
  // A CPU profile of each in-process run, to see where warm time goes.
  profileDir: process.env.BENCH_PROFILE_DIR,
};
const built = { adapter, baseline };

/** One connection's in-process and loopback HTTP runs, credited to `kind`'s secrets. */
const warmPair = async (
  kind: Kind,
  what: string,
  requests: () => BenchRequest[] | Promise<BenchRequest[]>,
): Promise<WarmPair> => {
  const n = WARMUP + WARM;
  progress.update(`warm CPU: ${what}, in process (${n} webhooks)`);
  const inprocSummary = await as(kind, async () =>
    inproc(built[kind], await requests(), warmOptions),
  );
  const label = `warm CPU: ${what}, loopback HTTP`;
  progress.update(label, 0, n);
  const http = await as(kind, async () =>
    overHttp(built[kind], await requests(), { ...warmOptions, progress, label }),
  );
  return { inproc: inprocSummary, http };
};

const clerk = () => clerkEvents('/webhooks/clerk', WARMUP + WARM);
const warm = {
  adapter: await warmPair('adapter', 'adapter clerk', clerk),
  baseline: await warmPair('baseline', 'baseline clerk', clerk),
};
const unguarded = await warmPair('adapter', 'adapter clerk, guard off', () =>
  clerkEvents(`/webhooks/${UNGUARDED}`, WARMUP + WARM),
);

// The adapter's other sources; the baseline handles Clerk only, so they compare against its Clerk.
const sources = {} as Record<BenchSource, WarmPair>;
for (const source of BENCH_SOURCES) {
  sources[source] = await warmPair('adapter', `adapter ${source}`, () =>
    otherSources.make(source, WARMUP + WARM),
  );
}

// --- (4) sync latency ---
const sync = await measureSync(built, services, {
  n: SYNC_N,
  latencyMs: SYNC_LATENCY_MS,
  users: USERS,
  clerkEvents,
  progress,
});

// --- (6) signer, (7) queue throughput: the existing benchmarks, their last lines ---
progress.update('signer (npm run bench:sign)');
const sign = signLine();
let queue = '';
if (process.env.BENCH_SKIP_QUEUE !== '1') {
  progress.update(`queue throughput (npm run bench:queue, ${QUEUE_WINDOW_MS / 1000} s window)`);
  queue = queueLine(QUEUE_WINDOW_MS);
}

await services.close();
progress.clear();

const result = benchResult({
  machine: {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    node: process.version,
  },
  init: { runs: INIT_RUNS, adapter: init.adapter, baseline: init.baseline },
  size: {
    adapter: { bundleBytes: adapter.bundleBytes, zipBytes: adapter.zipBytes },
    baseline: { bundleBytes: baseline.bundleBytes, zipBytes: baseline.zipBytes },
  },
  warmN: WARM,
  warm,
  unguarded,
  sources,
  sync: { injectedLatencyMsPerCall: SYNC_LATENCY_MS, ...sync },
  signLine: sign,
  queueLine: queue,
  secretsServed: services.secretsServed,
});
for (const line of reportLines(result, WARMUP)) console.log(line);
