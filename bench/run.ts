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
import { type ChildProcess, execFile, execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { startEmulator } from '../emulator/server.ts';
import { seedWithUsers } from '../local/load.ts';
import { getSecretValueBody, startFakeSecretsExtension } from '../local/secrets-extension.ts';
import { type Built, buildOne } from './build.ts';
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
const SESSION_TOKEN = 'bench-session-token';
const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRETS = JSON.parse(readFileSync('config/local-secrets.json', 'utf8')) as Record<
  string,
  unknown
>;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
/** The worker's percentile (bench/worker.mjs): the sample at floor(q × n) of the sorted samples. */
const percentile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

// --- build ---
const adapter = await buildOne('adapter', 'handlers/webhook.ts', ['config/local.json']);
const baseline = await buildOne('baseline', 'bench/baseline/handler.ts');

// --- a fake Secrets Manager (GetSecretValue only), a fake Parameters and Secrets Lambda
// Extension and the CIAM emulator, in this process. The baseline reads its secret through the SDK
// (Secrets Manager); the adapter through the extension when it supports it, else the same SDK.
let secretsManagerServed = 0;
const secretsServer: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    secretsManagerServed += 1;
    const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
      SecretId?: string;
    };
    const body = SecretId === undefined ? undefined : getSecretValueBody(SECRETS, SecretId);
    if (body === undefined) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  });
});
await new Promise<void>((r) => secretsServer.listen(0, '127.0.0.1', r));
const secretsPort = (secretsServer.address() as { port: number }).port;
const extension = await startFakeSecretsExtension({ secrets: SECRETS, token: SESSION_TOKEN });

// Every CIAM call the emulator answers (sync latency counts the calls each request made).
let ciamCalls = 0;
const seed = seedWithUsers('bench', USERS, 8300);
const emulator = await startEmulator({
  port: 0,
  seed,
  rateLimit: 1_000_000,
  onCall: () => {
    ciamCalls += 1;
  },
});

const UNGUARDED = 'clerk-unguarded';

// The adapter's config: config/local.json with the resolver cache production sets.
const configDir = mkdtempSync(join(tmpdir(), 'ciam-bench-'));
const local = JSON.parse(readFileSync('config/local.json', 'utf8')) as {
  connections: { id: string; resolve: Record<string, unknown> }[];
};
for (const c of local.connections) c.resolve = { ...c.resolve, cacheTtlSeconds: 300 };
// Bench only: Clerk with the stale-event guard off, so the adapter makes one CIAM call per webhook
// as the baseline does. Shows what the guard's read costs, same run, same bundle.
const clerkConnection = local.connections.find((c) => c.id === 'clerk');
if (clerkConnection === undefined) throw new Error('config/local.json has no clerk connection');
local.connections.push({
  ...clerkConnection,
  id: UNGUARDED,
  staleGuard: { enabled: false },
} as (typeof local.connections)[number]);
const configPath = join(configDir, 'config.json');
writeFileSync(configPath, JSON.stringify(local));

const env = {
  ...process.env,
  AWS_REGION: 'ap-southeast-1',
  AWS_ACCESS_KEY_ID: 'AKIABENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${secretsPort}`,
  // The Parameters and Secrets Lambda Extension's contract (the baseline ignores both).
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
  AWS_SESSION_TOKEN: SESSION_TOKEN,
  ADAPTER_CONFIG: configPath,
  // As deployed, the webhook function has a queue (only clerk-queued would use it here).
  QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/000000000000/bench.fifo',
  CIAM_ENDPOINT: emulator.url,
  CIAM_RATE_LIMIT_PER_SECOND: '1000000',
  BENCH_CIAM_PORT: String(emulator.port),
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  NODE_OPTIONS: '',
};

// --- (1) init: fresh processes, interleaved, above bare Node ---
const probe = (bundle: string) => {
  const out = spawnSync(process.execPath, ['bench/probe.mjs', bundle], { env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`probe ${bundle} failed: ${out.stderr.slice(-2000)}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as {
    cpuMs: number;
    wallMs: number;
  };
};
interface InitRun {
  cpuMs: number;
  wallMs: number;
}
const init = { bare: [] as InitRun[], adapter: [] as InitRun[], baseline: [] as InitRun[] };
for (let i = 0; i < INIT_RUNS; i += 1) {
  init.bare.push(probe('none'));
  init.adapter.push(probe(resolve(adapter.bundle)));
  init.baseline.push(probe(resolve(baseline.bundle)));
}
const above = (runs: InitRun[]) => ({
  cpuMs: median(runs.map((r) => r.cpuMs)) - median(init.bare.map((r) => r.cpuMs)),
  wallMs: median(runs.map((r) => r.wallMs)) - median(init.bare.map((r) => r.wallMs)),
});
const initAdapter = above(init.adapter);
const initBaseline = above(init.baseline);

// --- (3) warm CPU per webhook ---
type Kind = 'adapter' | 'baseline';
interface SecretsServed {
  /** GetSecretValue calls the fake Secrets Manager answered (the SDK path). */
  secretsManager: number;
  /** Secrets the fake extension handed out (200). */
  extension: number;
  /** Extension requests it refused (401, 400: wrong token, unknown secret, bad request). */
  extensionRefused: number;
}
const secretsServed: Record<Kind, SecretsServed> = {
  adapter: { secretsManager: 0, extension: 0, extensionRefused: 0 },
  baseline: { secretsManager: 0, extension: 0, extensionRefused: 0 },
};
const refused = () =>
  extension.served.unauthorized + extension.served.notFound + extension.served.badRequest;
/** Runs one phase with one kind of process and credits it with the secrets served meanwhile. */
const as = async <T>(kind: Kind, run: () => Promise<T>): Promise<T> => {
  const before = { sm: secretsManagerServed, ok: extension.served.ok, no: refused() };
  try {
    return await run();
  } finally {
    secretsServed[kind].secretsManager += secretsManagerServed - before.sm;
    secretsServed[kind].extension += extension.served.ok - before.ok;
    secretsServed[kind].extensionRefused += refused() - before.no;
  }
};

let counter = 0;
const clerkEvents = (path: string, n: number): BenchRequest[] => {
  const webhook = new Webhook(CLERK_SECRET);
  return Array.from({ length: n }, (_, i) => {
    counter += 1;
    const user = i % USERS;
    const at = new Date();
    const id = `msg_bench_${counter}`;
    const updatedAt = 1_800_000_000_000 + counter * 1000;
    const body = JSON.stringify({
      type: 'user.updated',
      object: 'event',
      timestamp: updatedAt,
      data: {
        id: `ext-bench-${user}`,
        external_id: `bench-user-${user}`,
        object: 'user',
        first_name: `B${counter}`,
        last_name: 'Bench',
        email_addresses: [],
        phone_numbers: [],
        created_at: 1_700_000_000_000,
        updated_at: updatedAt,
      },
    });
    return {
      path,
      body,
      headers: {
        'content-type': 'application/json',
        'svix-id': id,
        'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
        'svix-signature': webhook.sign(id, at, body),
      },
    };
  });
};
const users = seed.userStores[0]?.Users ?? [];
const otherSources = sourceEvents(users);

interface Summary {
  n: number;
  p50Us: number;
  p99Us: number;
  rssMb: number;
  statuses: Record<string, number>;
  /** HTTP status and the answer's `status` field (applied, skipped, …), counted. */
  outcomes: Record<string, number>;
}

// Asynchronous: the emulator and the fake secret servers answer from this process's event loop.
const inproc = async (built: Built, requests: readonly BenchRequest[]): Promise<Summary> => {
  const file = join(configDir, `${built.name}-events.json`);
  writeFileSync(file, JSON.stringify(requests));
  const { stdout: out } = await promisify(execFile)(
    process.execPath,
    [
      // BENCH_PROFILE_DIR: a CPU profile of each in-process run, to see where warm time goes.
      ...(process.env.BENCH_PROFILE_DIR === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]),
      'bench/worker.mjs',
      resolve(built.bundle),
      'inproc',
      file,
      String(WARMUP),
    ],
    { env, encoding: 'utf8', maxBuffer: 2 ** 24 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Summary;
};

/** A worker serving `built` over loopback HTTP; `send` posts one request and waits for the answer. */
const httpWorker = async (built: Built, warmup: number) => {
  // stdout is a pipe, as in Lambda and in the in-process runs, drained rather than printed (the
  // adapter's metrics are one EMF line per webhook); stderr stays visible.
  const child: ChildProcess = fork(
    'bench/worker.mjs',
    [resolve(built.bundle), 'http', '', String(warmup)],
    { env, execArgv: [], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  child.stdout?.resume();
  const port = await new Promise<number>((r) =>
    child.once('message', (m) => r((m as { port: number }).port)),
  );
  return {
    /** Posts one request; resolves to its outcome as the worker counts them (`200 applied`). */
    send: async (request: BenchRequest): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const text = await res.text();
      try {
        const status = (JSON.parse(text) as { status?: unknown }).status;
        return typeof status === 'string' ? `${res.status} ${status}` : String(res.status);
      } catch {
        return String(res.status);
      }
    },
    done: () =>
      new Promise<Summary>((r) => {
        child.on('message', (m) => {
          const s = (m as { summary?: Summary }).summary;
          if (s !== undefined) r(s);
        });
        child.send('done');
      }),
  };
};

const overHttp = async (built: Built, requests: readonly BenchRequest[]): Promise<Summary> => {
  const worker = await httpWorker(built, WARMUP);
  for (const request of requests) await worker.send(request);
  return worker.done();
};

const clerkRun = async (kind: Kind, built: Built) => ({
  inproc: await as(kind, () => inproc(built, clerkEvents('/webhooks/clerk', WARMUP + WARM))),
  http: await as(kind, () => overHttp(built, clerkEvents('/webhooks/clerk', WARMUP + WARM))),
});
const warm = {
  adapter: await clerkRun('adapter', adapter),
  baseline: await clerkRun('baseline', baseline),
};
const unguarded = {
  inproc: await as('adapter', () =>
    inproc(adapter, clerkEvents(`/webhooks/${UNGUARDED}`, WARMUP + WARM)),
  ),
  http: await as('adapter', () =>
    overHttp(adapter, clerkEvents(`/webhooks/${UNGUARDED}`, WARMUP + WARM)),
  ),
};

// The adapter's other sources; the baseline handles Clerk only, so they compare against its Clerk.
const perSource = {} as Record<BenchSource, { inproc: Summary; http: Summary }>;
for (const source of BENCH_SOURCES) {
  perSource[source] = {
    inproc: await as('adapter', async () =>
      inproc(adapter, await otherSources.make(source, WARMUP + WARM)),
    ),
    http: await as('adapter', async () =>
      overHttp(adapter, await otherSources.make(source, WARMUP + WARM)),
    ),
  };
}

// --- (4) sync latency: loopback HTTP, Clerk, every CIAM call delayed by the emulator ---
interface SyncSummary {
  n: number;
  /** CIAM calls one request made (the emulator's count while it was in flight). */
  ciamCallsPerRequest: { min: number; median: number; max: number };
  rawP50Ms: number;
  rawP99Ms: number;
  /** End-to-end time minus the injected latency × that request's CIAM calls. */
  ownP50Ms: number;
  ownP99Ms: number;
  /** HTTP status and the answer's `status` field, counted. */
  outcomes: Record<string, number>;
}
interface SyncSamples {
  raw: number[];
  own: number[];
  calls: number[];
  outcomes: Record<string, number>;
}
const round3 = (x: number) => Number(x.toFixed(3));
const syncSummary = ({ raw, own, calls, outcomes }: SyncSamples): SyncSummary => ({
  n: raw.length,
  ciamCallsPerRequest: { min: Math.min(...calls), median: median(calls), max: Math.max(...calls) },
  rawP50Ms: round3(percentile(raw, 0.5)),
  rawP99Ms: round3(percentile(raw, 0.99)),
  ownP50Ms: round3(percentile(own, 0.5)),
  ownP99Ms: round3(percentile(own, 0.99)),
  outcomes,
});
// Both functions at once, their requests interleaved (the order alternating), so a busy machine
// weighs on both alike; one request in flight at a time, so the emulator's count of calls during
// a request is that request's CIAM calls.
const syncLatency = async (): Promise<Record<Kind, SyncSummary>> => {
  const kinds: Kind[] = ['adapter', 'baseline'];
  // Started and warmed one after the other, so the secrets each reads at start (middy prefetches
  // at load) are credited to it: unmeasured and undelayed, every user resolved once.
  emulator.faults.clear();
  const warmed = async (kind: Kind, built: Built) =>
    as(kind, async () => {
      const worker = await httpWorker(built, 0);
      for (const request of clerkEvents('/webhooks/clerk', USERS)) await worker.send(request);
      return worker;
    });
  const workers = {
    adapter: await warmed('adapter', adapter),
    baseline: await warmed('baseline', baseline),
  };
  const requests = {
    adapter: clerkEvents('/webhooks/clerk', SYNC_N),
    baseline: clerkEvents('/webhooks/clerk', SYNC_N),
  };
  const samples: Record<Kind, SyncSamples> = {
    adapter: { raw: [], own: [], calls: [], outcomes: {} },
    baseline: { raw: [], own: [], calls: [], outcomes: {} },
  };
  emulator.faults.configure({ rates: { latency: 1 }, latencyMs: SYNC_LATENCY_MS });
  try {
    for (let i = 0; i < SYNC_N; i += 1) {
      for (const kind of i % 2 === 0 ? kinds : [...kinds].reverse()) {
        const request = requests[kind][i];
        if (request === undefined) continue;
        const into = samples[kind];
        const before = ciamCalls;
        const start = performance.now();
        const outcome = await as(kind, () => workers[kind].send(request));
        const ms = performance.now() - start;
        const made = ciamCalls - before;
        into.raw.push(ms);
        into.own.push(ms - SYNC_LATENCY_MS * made);
        into.calls.push(made);
        into.outcomes[outcome] = (into.outcomes[outcome] ?? 0) + 1;
      }
    }
  } finally {
    emulator.faults.clear();
  }
  await Promise.all(kinds.map((kind) => workers[kind].done()));
  return { adapter: syncSummary(samples.adapter), baseline: syncSummary(samples.baseline) };
};
const sync = await syncLatency();

// --- (6) signer, (7) queue throughput: the existing benchmarks, their last lines ---
const lastLine = (args: string[], prefix: string, extraEnv: Record<string, string> = {}) => {
  const out = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
  });
  return out.stdout.split('\n').find((l) => l.startsWith(prefix)) ?? '';
};
const field = (line: string, name: string) => {
  const m = new RegExp(`${name}[=:]\\s*([0-9.]+)`).exec(line);
  return m?.[1] === undefined ? null : Number(m[1]);
};
const signLine = lastLine(['bench/sign.bench.ts'], 'ratio:');
const queueLine =
  process.env.BENCH_SKIP_QUEUE === '1'
    ? ''
    : lastLine(['bench/queue.bench.ts'], 'BENCH_QUEUE', {
        BENCH_WINDOW_MS: String(QUEUE_WINDOW_MS),
      });

secretsServer.close();
await extension.close();
await emulator.close();

const result = {
  machine: {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    node: process.version,
  },
  init: {
    runs: INIT_RUNS,
    adapter: initAdapter,
    baseline: initBaseline,
    cpuRatio: ratio(initAdapter.cpuMs, initBaseline.cpuMs),
    wallRatio: ratio(initAdapter.wallMs, initBaseline.wallMs),
  },
  size: {
    adapter: { bundleBytes: adapter.bundleBytes, zipBytes: adapter.zipBytes },
    baseline: { bundleBytes: baseline.bundleBytes, zipBytes: baseline.zipBytes },
    bundleRatio: ratio(adapter.bundleBytes, baseline.bundleBytes),
    zipRatio: ratio(adapter.zipBytes, baseline.zipBytes),
  },
  warm: {
    n: WARM,
    adapter: warm.adapter,
    baseline: warm.baseline,
    inprocP50Ratio: ratio(warm.adapter.inproc.p50Us, warm.baseline.inproc.p50Us),
    httpP50Ratio: ratio(warm.adapter.http.p50Us, warm.baseline.http.p50Us),
    httpP99Ratio: ratio(warm.adapter.http.p99Us, warm.baseline.http.p99Us),
    /** Clerk with the stale-event guard off: one CIAM call per webhook, as the baseline. */
    clerkUnguarded: {
      adapter: unguarded,
      inprocP50Ratio: ratio(unguarded.inproc.p50Us, warm.baseline.inproc.p50Us),
      httpP50Ratio: ratio(unguarded.http.p50Us, warm.baseline.http.p50Us),
      httpP99Ratio: ratio(unguarded.http.p99Us, warm.baseline.http.p99Us),
    },
    /** The adapter's other sources; every ratio is against the baseline's Clerk figure. */
    sources: Object.fromEntries(
      BENCH_SOURCES.map((source) => {
        const { inproc: i, http: h } = perSource[source];
        return [
          source,
          {
            adapter: perSource[source],
            inprocP50RatioVsBaselineClerk: ratio(i.p50Us, warm.baseline.inproc.p50Us),
            inprocP99RatioVsBaselineClerk: ratio(i.p99Us, warm.baseline.inproc.p99Us),
            httpP50RatioVsBaselineClerk: ratio(h.p50Us, warm.baseline.http.p50Us),
            httpP99RatioVsBaselineClerk: ratio(h.p99Us, warm.baseline.http.p99Us),
          },
        ];
      }),
    ),
  },
  sync: {
    injectedLatencyMsPerCall: SYNC_LATENCY_MS,
    source: 'clerk',
    adapter: sync.adapter,
    baseline: sync.baseline,
    ownP50Ratio: ratio(sync.adapter.ownP50Ms, sync.baseline.ownP50Ms),
    ownP99Ratio: ratio(sync.adapter.ownP99Ms, sync.baseline.ownP99Ms),
  },
  rssMbAfterWebhooks: { adapter: warm.adapter.inproc.rssMb, baseline: warm.baseline.inproc.rssMb },
  sign: { line: signLine, ratio: field(signLine, 'ratio') },
  queue: { line: queueLine, updatesPerSecond: field(queueLine, 'update_rate') },
  /** Which secret path each kind of process used: requests each fake served during its phases. */
  secretsServed,
};

const f = (x: number, d = 1) => x.toFixed(d);
const rows: [string, string, string, string][] = [
  ['figure', 'adapter', 'baseline', 'ratio'],
  [
    'init CPU above bare Node (ms, median)',
    f(initAdapter.cpuMs),
    f(initBaseline.cpuMs),
    f(result.init.cpuRatio, 2),
  ],
  [
    'init wall above bare Node (ms, median)',
    f(initAdapter.wallMs),
    f(initBaseline.wallMs),
    f(result.init.wallRatio, 2),
  ],
  [
    'bundle (bytes)',
    String(adapter.bundleBytes),
    String(baseline.bundleBytes),
    f(result.size.bundleRatio, 2),
  ],
  ['zip (bytes)', String(adapter.zipBytes), String(baseline.zipBytes), f(result.size.zipRatio, 2)],
  [
    'warm CPU/webhook in process p50 (ms), clerk',
    f(warm.adapter.inproc.p50Us / 1000, 3),
    f(warm.baseline.inproc.p50Us / 1000, 3),
    f(result.warm.inprocP50Ratio, 2),
  ],
  [
    'warm CPU/webhook in process p99 (ms), clerk',
    f(warm.adapter.inproc.p99Us / 1000, 3),
    f(warm.baseline.inproc.p99Us / 1000, 3),
    f(warm.adapter.inproc.p99Us / warm.baseline.inproc.p99Us, 2),
  ],
  [
    'warm CPU/webhook loopback HTTP p50 (ms), clerk',
    f(warm.adapter.http.p50Us / 1000, 3),
    f(warm.baseline.http.p50Us / 1000, 3),
    f(result.warm.httpP50Ratio, 2),
  ],
  [
    'warm CPU/webhook loopback HTTP p99 (ms), clerk',
    f(warm.adapter.http.p99Us / 1000, 3),
    f(warm.baseline.http.p99Us / 1000, 3),
    f(result.warm.httpP99Ratio, 2),
  ],
  ...(
    [
      ['in process p50', unguarded.inproc.p50Us, warm.baseline.inproc.p50Us],
      ['in process p99', unguarded.inproc.p99Us, warm.baseline.inproc.p99Us],
      ['loopback HTTP p50', unguarded.http.p50Us, warm.baseline.http.p50Us],
      ['loopback HTTP p99', unguarded.http.p99Us, warm.baseline.http.p99Us],
    ] as const
  ).map(([what, mine, theirs]): [string, string, string, string] => [
    `warm CPU/webhook ${what} (ms), clerk, guard off (1 CIAM call)`,
    f(mine / 1000, 3),
    f(theirs / 1000, 3),
    f(mine / theirs, 2),
  ]),
  ...BENCH_SOURCES.flatMap((source): [string, string, string, string][] => {
    const { inproc: i, http: h } = perSource[source];
    const label = (what: string) => `warm CPU/webhook ${what} (ms), ${source} vs baseline's clerk`;
    const row = (what: string, mine: number, theirs: number): [string, string, string, string] => [
      label(what),
      f(mine / 1000, 3),
      f(theirs / 1000, 3),
      f(mine / theirs, 2),
    ];
    return [
      row('in process p50', i.p50Us, warm.baseline.inproc.p50Us),
      row('in process p99', i.p99Us, warm.baseline.inproc.p99Us),
      row('loopback HTTP p50', h.p50Us, warm.baseline.http.p50Us),
      row('loopback HTTP p99', h.p99Us, warm.baseline.http.p99Us),
    ];
  }),
  [
    `sync, CIAM +${SYNC_LATENCY_MS} ms/call: CIAM calls per request (median)`,
    String(sync.adapter.ciamCallsPerRequest.median),
    String(sync.baseline.ciamCallsPerRequest.median),
    '',
  ],
  [
    `sync, CIAM +${SYNC_LATENCY_MS} ms/call: end-to-end p50 (ms, raw)`,
    f(sync.adapter.rawP50Ms, 2),
    f(sync.baseline.rawP50Ms, 2),
    f(sync.adapter.rawP50Ms / sync.baseline.rawP50Ms, 2),
  ],
  [
    `sync, CIAM +${SYNC_LATENCY_MS} ms/call: end-to-end p99 (ms, raw)`,
    f(sync.adapter.rawP99Ms, 2),
    f(sync.baseline.rawP99Ms, 2),
    f(sync.adapter.rawP99Ms / sync.baseline.rawP99Ms, 2),
  ],
  [
    `sync own latency p50 (ms, end-to-end − ${SYNC_LATENCY_MS} ms × calls)`,
    f(sync.adapter.ownP50Ms, 2),
    f(sync.baseline.ownP50Ms, 2),
    f(result.sync.ownP50Ratio, 2),
  ],
  [
    `sync own latency p99 (ms, end-to-end − ${SYNC_LATENCY_MS} ms × calls)`,
    f(sync.adapter.ownP99Ms, 2),
    f(sync.baseline.ownP99Ms, 2),
    f(result.sync.ownP99Ratio, 2),
  ],
  [
    `RSS after ${WARM + WARMUP} webhooks (MB)`,
    f(warm.adapter.inproc.rssMb),
    f(warm.baseline.inproc.rssMb),
    f(warm.adapter.inproc.rssMb / warm.baseline.inproc.rssMb, 2),
  ],
  [
    'signatures/s vs official SDK Sign.sign3',
    '',
    '',
    result.sign.ratio === null ? 'n/a' : f(result.sign.ratio, 2),
  ],
  [
    'queue UpdateUser rate vs CIAM 20/s',
    result.queue.updatesPerSecond === null ? 'n/a' : `${result.queue.updatesPerSecond}/s`,
    '20/s',
    result.queue.updatesPerSecond === null ? 'n/a' : f(result.queue.updatesPerSecond / 20, 3),
  ],
];
const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`);
  if (i === 0) console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
}
console.log(
  `outcomes (loopback HTTP): adapter ${JSON.stringify(warm.adapter.http.outcomes)} baseline ${JSON.stringify(warm.baseline.http.outcomes)} clerk guard off ${JSON.stringify(unguarded.http.outcomes)}`,
);
console.log(
  `outcomes per source (adapter, in process / loopback HTTP): ${BENCH_SOURCES.map((source) => `${source} ${JSON.stringify(perSource[source].inproc.outcomes)} / ${JSON.stringify(perSource[source].http.outcomes)}`).join(' ')}`,
);
console.log(
  `sync outcomes: adapter ${JSON.stringify(sync.adapter.outcomes)} (${sync.adapter.ciamCallsPerRequest.min}-${sync.adapter.ciamCallsPerRequest.max} CIAM calls/request) baseline ${JSON.stringify(sync.baseline.outcomes)} (${sync.baseline.ciamCallsPerRequest.min}-${sync.baseline.ciamCallsPerRequest.max})`,
);
const servedLine = (kind: Kind) => {
  const s = secretsServed[kind];
  return `${kind}: Secrets Manager ${s.secretsManager}, extension ${s.extension} (${s.extensionRefused} refused)`;
};
console.log(`secrets served: ${servedLine('adapter')}; ${servedLine('baseline')}`);
console.log(
  `machine: ${result.machine.nproc} x ${result.machine.cpu}, Node ${result.machine.node}`,
);
console.log(`BENCH ${JSON.stringify(result)}`);
