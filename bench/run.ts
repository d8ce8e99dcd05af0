// `npm run bench`: the adapter's webhook function against bench/baseline (middy + official Tencent
// SDK), both bundled as serverless.yml bundles. Prints a table and a last line `BENCH {json}`.
// Ratios, not absolute times: adapter / baseline measured in the same run. A benchmark, not a test.
import { type ChildProcess, execFile, execFileSync, fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { startEmulator } from '../emulator/server.ts';
import { seedWithUsers } from '../local/load.ts';
import { type Built, buildOne } from './build.ts';

const INIT_RUNS = Number(process.env.BENCH_INIT_RUNS ?? 15);
const WARM = Number(process.env.BENCH_WARM ?? 2000);
const WARMUP = 200;
const USERS = 100;
const QUEUE_WINDOW_MS = Number(process.env.BENCH_QUEUE_WINDOW_MS ?? 10_000);
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

// --- build ---
const adapter = await buildOne('adapter', 'handlers/webhook.ts', ['config/local.json']);
const baseline = await buildOne('baseline', 'bench/baseline/handler.ts');

// --- a fake Secrets Manager (GetSecretValue only) and the CIAM emulator, in this process ---
const secretsServer: Server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
      SecretId?: string;
    };
    const value = SecretId === undefined ? undefined : SECRETS[SecretId];
    if (value === undefined) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        ARN: `arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:${SecretId}-abcdef`,
        Name: SecretId,
        SecretString: JSON.stringify(value),
        VersionId: 'v1',
      }),
    );
  });
});
await new Promise<void>((r) => secretsServer.listen(0, '127.0.0.1', r));
const secretsPort = (secretsServer.address() as { port: number }).port;

const emulator = await startEmulator({
  port: 0,
  seed: seedWithUsers('bench', USERS, 8300),
  rateLimit: 1_000_000,
});

// The adapter's config: config/local.json with the resolver cache production sets.
const configDir = mkdtempSync(join(tmpdir(), 'ciam-bench-'));
const local = JSON.parse(readFileSync('config/local.json', 'utf8')) as {
  connections: { id: string; resolve: Record<string, unknown> }[];
};
for (const c of local.connections) c.resolve = { ...c.resolve, cacheTtlSeconds: 300 };
const configPath = join(configDir, 'config.json');
writeFileSync(configPath, JSON.stringify(local));

const env = {
  ...process.env,
  AWS_REGION: 'ap-southeast-1',
  AWS_ACCESS_KEY_ID: 'AKIABENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${secretsPort}`,
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
interface Request {
  path: string;
  headers: Record<string, string>;
  body: string;
}
let counter = 0;
const clerkEvents = (path: string, n: number): Request[] => {
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

interface Summary {
  n: number;
  p50Us: number;
  p99Us: number;
  rssMb: number;
  statuses: Record<string, number>;
}

// Asynchronous: the emulator and the fake Secrets Manager answer from this process's event loop.
const inproc = async (built: Built): Promise<Summary> => {
  const file = join(configDir, `${built.name}-events.json`);
  writeFileSync(file, JSON.stringify(clerkEvents('/webhooks/clerk', WARMUP + WARM)));
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

const overHttp = async (built: Built): Promise<Summary> => {
  const child: ChildProcess = fork(
    'bench/worker.mjs',
    [resolve(built.bundle), 'http', '', String(WARMUP)],
    {
      env,
      execArgv: [],
    },
  );
  const port = await new Promise<number>((r) =>
    child.once('message', (m) => r((m as { port: number }).port)),
  );
  for (const request of clerkEvents('/webhooks/clerk', WARMUP + WARM)) {
    const res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    await res.arrayBuffer();
  }
  const summary = await new Promise<Summary>((r) => {
    child.on('message', (m) => {
      const s = (m as { summary?: Summary }).summary;
      if (s !== undefined) r(s);
    });
    child.send('done');
  });
  return summary;
};

const warm = {
  adapter: { inproc: await inproc(adapter), http: await overHttp(adapter) },
  baseline: { inproc: await inproc(baseline), http: await overHttp(baseline) },
};

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
  },
  rssMbAfterWebhooks: { adapter: warm.adapter.inproc.rssMb, baseline: warm.baseline.inproc.rssMb },
  sign: { line: signLine, ratio: field(signLine, 'ratio') },
  queue: { line: queueLine, updatesPerSecond: field(queueLine, 'update_rate') },
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
    'warm CPU/webhook in process p50 (ms)',
    f(warm.adapter.inproc.p50Us / 1000, 3),
    f(warm.baseline.inproc.p50Us / 1000, 3),
    f(result.warm.inprocP50Ratio, 2),
  ],
  [
    'warm CPU/webhook in process p99 (ms)',
    f(warm.adapter.inproc.p99Us / 1000, 3),
    f(warm.baseline.inproc.p99Us / 1000, 3),
    f(warm.adapter.inproc.p99Us / warm.baseline.inproc.p99Us, 2),
  ],
  [
    'warm CPU/webhook loopback HTTP p50 (ms)',
    f(warm.adapter.http.p50Us / 1000, 3),
    f(warm.baseline.http.p50Us / 1000, 3),
    f(result.warm.httpP50Ratio, 2),
  ],
  [
    'warm CPU/webhook loopback HTTP p99 (ms)',
    f(warm.adapter.http.p99Us / 1000, 3),
    f(warm.baseline.http.p99Us / 1000, 3),
    f(result.warm.httpP99Ratio, 2),
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
  `statuses: adapter ${JSON.stringify(warm.adapter.http.statuses)} baseline ${JSON.stringify(warm.baseline.http.statuses)}`,
);
console.log(
  `machine: ${result.machine.nproc} x ${result.machine.cpu}, Node ${result.machine.node}`,
);
console.log(`BENCH ${JSON.stringify(result)}`);
