// `npm run fuzz`: hostile requests against `npm start`'s stack (emulator, local API Gateway, both
// functions) on free ports, generated with fast-check from a printed seed (FUZZ_SEED to replay).
// None is validly signed, so none may reach CIAM. Every connection of config/local.json also has
// an allow-listed twin (`<id>-ip`, only 127.0.0.1 and ::1), and some requests come from other
// loopback addresses (127.0.0.2–254), which those twins must refuse 403 before anything else.
// Prints `FUZZ requests=<n> status_5xx=<n> no_code=<n> upstream_calls=<n> crashes=<n>` and exits
// non-zero unless the last four are 0 and no refused address got past an allow-list. On a
// terminal, stderr shows how far it is (scripts/progress.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { createProgress } from './progress.ts';

const CONCURRENCY = 8;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const CONNECTIONS = ['clerk', 'clerk-queued', 'workos', 'auth0', 'hmac', 'okta', 'nope', ''];
const LOCAL_CONFIG = fileURLToPath(new URL('../config/local.json', import.meta.url));
const localConnections = (): Array<Record<string, unknown>> =>
  (
    JSON.parse(readFileSync(LOCAL_CONFIG, 'utf8')) as {
      connections: Array<Record<string, unknown>>;
    }
  ).connections;
/** The twins' suffix: the same connection, accepting only the fuzzer's own address. */
const FENCED = '-ip';
const ALLOWED_SOURCES = ['127.0.0.1/32', '::1/128'];
const FENCED_PATHS = localConnections().flatMap((connection) => {
  const id = `${String(connection.id)}${FENCED}`;
  return connection.source === 'scim'
    ? [`/scim/v2/${id}/Users`, `/scim/v2/${id}/Users/some-id`]
    : [`/webhooks/${id}`];
});
/** Bodies sent from refused addresses stay under the body limit, so only the address decides. */
const REFUSED_BODY_MAX = 64 * 1024;
const WRONG_SECRET = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.nat({ max: 20_000 }).map((d) => deep(d)),
  fc.constant(
    '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"type":"user.updated"}',
  ),
  fc.constant('{"type":"user.updated","type":"user.deleted","data":{"id":"a","id":"b"}}'),
  fc.constant(`{"n":1e999999,"m":-1e400,"k":${'9'.repeat(5000)}}`),
  fc.record({ type: fc.string(), data: fc.anything() }).map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify({ type: 'user.updated', data: { id: 1, first_name: {} } })),
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
);
const path = fc.oneof(
  fc.constantFrom(...CONNECTIONS).map((id) => `/webhooks/${id}`),
  fc.constantFrom(...FENCED_PATHS, '/scim/v2/scim/Users', '/scim/v2/scim/Users/some-id'),
  fc
    .constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F..%2F', '..', '%C0%AF', '%ff%fe')
    .map((bad) => `/webhooks/${bad}`),
  fc.string({ maxLength: 60 }).map((s) => `/webhooks/${encodeURIComponent(s)}`),
  fc.constantFrom(
    '/',
    '/webhooks',
    '/webhooks/',
    '/webhooks/clerk/extra',
    '/health',
    '/__queue/stats',
    '/__queue/dlq',
  ),
);
const method = fc.constantFrom(
  'POST',
  'POST',
  'POST',
  'GET',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
);
const nowS = () => Math.floor(Date.now() / 1000);
const headers = fc.record(
  {
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
      'application/json; charset=latin1',
    ),
    svixId: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('a'.repeat(8000))),
    // Boundary times around the 5-minute tolerance.
    skew: fc.constantFrom(0, 299, 300, 301, -299, -300, -301, 1e9, -1e9),
    signature: fc.constantFrom('forged', 'truncated', 'garbage', 'none', 'oversized'),
    authorization: fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 100 }),
      fc.constant(`Bearer ${'t'.repeat(9000)}`),
    ),
  },
  { requiredKeys: ['contentType', 'skew', 'signature'] },
);

const signatureFor = (kind: string, id: string, ts: number, body: string): string => {
  const secret = Buffer.from(WRONG_SECRET.slice(6), 'base64');
  const forged = `v1,${createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('base64')}`;
  switch (kind) {
    case 'forged':
      return forged;
    case 'truncated':
      return forged.slice(0, 10);
    case 'oversized':
      return `v1,${'A'.repeat(10_000)}`;
    case 'garbage':
      return 'v1,@@@@ v2,=== ,,,';
    default:
      return '';
  }
};

type HeaderSample = typeof headers extends fc.Arbitrary<infer T> ? T : never;

// Mostly from the fuzzer's own address; one request in four from elsewhere on the loopback, and
// those mostly to an allow-listed twin.
const refusedAddress = fc.integer({ min: 2, max: 254 }).map((n) => `127.0.0.${n}`);
const requestArb: fc.Arbitrary<{
  path: string;
  method: string;
  body: string;
  headers: HeaderSample;
  from?: string;
}> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ path, method, body: jsonish, headers }) },
  {
    weight: 1,
    arbitrary: fc.record({
      path: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FENCED_PATHS) }, path),
      method,
      body: jsonish,
      headers,
      from: refusedAddress,
    }),
  },
);

/** `npm start`'s config with an allow-listed twin of every connection. */
const fuzzConfig = (): unknown => {
  const local = JSON.parse(readFileSync(LOCAL_CONFIG, 'utf8')) as Record<string, unknown>;
  const connections = localConnections();
  return {
    ...local,
    connections: [
      ...connections,
      ...connections.map((connection) => ({
        ...connection,
        id: `${String(connection.id)}${FENCED}`,
        allowedSourceIps: ALLOWED_SOURCES,
      })),
    ],
  };
};

/** A fenced twin's path (its connection refuses every address but the fuzzer's own). */
const isFenced = (target: string): boolean => FENCED_PATHS.includes(target);

interface Answer {
  status: number;
  text: string;
}

/** One request from `localAddress` (fetch cannot choose it), over its own connection. */
const sendFrom = (
  url: string,
  localAddress: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    let answer: Answer | undefined;
    // A stated length, as fetch sends: Node sends DELETE and OPTIONS bodies without one otherwise.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const options = { method, headers: { ...headers, ...length }, localAddress, agent: false };
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      answer = { status: res.statusCode ?? 0, text: '' };
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    // Once the answer's head is in, a socket that breaks is the server closing, not a crash (the
    // stand-in's answer to oversized headers carries a body even for HEAD, which Node's strict
    // parser calls malformed; fetch ignores it).
    req.on('error', (error) => (answer === undefined ? reject(error) : resolve(answer)));
    req.end(body);
  });

export interface FuzzResult {
  requests: number;
  status5xx: number;
  noCode: number;
  upstreamCalls: number;
  crashes: number;
  /** Requests from a refused address to an allow-listed twin. */
  refusedSources: number;
  /** Of those, answered anything but 403 SOURCE_IP_NOT_ALLOWED (or the stand-in's own 413). */
  refusedLeaks: number;
  examples: string[];
}

/**
 * Starts `npm start`'s stack on free ports, sends `requests` hostile requests, stops it.
 * `progress` hears the phase, and how many requests have been answered.
 */
export const runFuzz = async (
  requestCount: number,
  seed: number,
  progress: (label: string, done?: number, total?: number) => void = () => {},
): Promise<FuzzResult> => {
  progress('fuzz: starting npm start');
  const [port, emulatorPort] = [await freePort(), await freePort()];
  let upstreamCalls = 0;
  let exited = false;
  const configDir = mkdtempSync(join(tmpdir(), 'fuzz-config-'));
  const configPath = join(configDir, 'config.json');
  writeFileSync(configPath, JSON.stringify(fuzzConfig()));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      CIAM_EMULATOR_PORT: String(emulatorPort),
      ADAPTER_CONFIG: configPath,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.on('exit', () => {
    exited = true;
  });
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      // The emulator logs each call it receives as `ciam <action> <outcome>`.
      if (line.startsWith('ciam ')) upstreamCalls += 1;
      if (line.startsWith('adapter ')) ready();
    }
  });
  await Promise.race([
    started,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('npm start did not start')), 60_000),
    ),
  ]);
  const base = `http://127.0.0.1:${port}`;

  progress('fuzz: generating requests');
  const samples = fc.sample(requestArb, { numRuns: requestCount, seed });
  progress('fuzz: requests', 0, samples.length);

  let requests = 0;
  let answered = 0;
  let status5xx = 0;
  let noCode = 0;
  let crashes = 0;
  let refusedSources = 0;
  let refusedLeaks = 0;
  const examples: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const sample = samples[next];
      next += 1;
      if (sample === undefined || exited) continue;
      const ts = nowS() + sample.headers.skew;
      const id = sample.headers.svixId ?? 'msg_fuzz';
      const hdrs: Record<string, string> = {};
      if (sample.headers.contentType !== '') hdrs['content-type'] = sample.headers.contentType;
      if (sample.headers.signature !== 'none') {
        const signature = signatureFor(sample.headers.signature, id, ts, sample.body);
        hdrs['svix-id'] = id;
        hdrs['svix-timestamp'] = String(ts);
        hdrs['svix-signature'] = signature;
        hdrs['webhook-id'] = id;
        hdrs['webhook-timestamp'] = String(ts);
        hdrs['webhook-signature'] = signature;
        hdrs['workos-signature'] = `t=${ts * 1000}, v1=${signature.slice(3)}`;
        hdrs['x-hub-signature-256'] = `sha256=${signature.slice(3)}`;
        hdrs['x-event-id'] = id;
      }
      if (sample.headers.authorization !== undefined)
        hdrs.authorization = sample.headers.authorization;
      const withBody = sample.method !== 'GET' && sample.method !== 'HEAD';
      requests += 1;
      try {
        let res: Answer;
        if (sample.from === undefined) {
          const answer = await fetch(`${base}${sample.path}`, {
            method: sample.method,
            headers: hdrs,
            ...(withBody ? { body: sample.body } : {}),
          });
          res = { status: answer.status, text: await answer.text() };
        } else {
          const body = withBody ? sample.body.slice(0, REFUSED_BODY_MAX) : undefined;
          res = await sendFrom(`${base}${sample.path}`, sample.from, sample.method, hdrs, body);
        }
        const text = res.text;
        if (res.status >= 500) status5xx += 1;
        let code: unknown;
        try {
          code = (JSON.parse(text) as { code?: unknown }).code;
        } catch {
          code = undefined;
        }
        if (sample.from !== undefined && isFenced(sample.path)) {
          refusedSources += 1;
          // HEAD answers carry no body: the status alone says it. Oversized bodies and headers
          // are refused by the API Gateway stand-in before any function runs.
          const refused =
            (res.status === 403 &&
              (sample.method === 'HEAD' || code === 'SOURCE_IP_NOT_ALLOWED')) ||
            res.status === 413 ||
            res.status === 431;
          if (!refused) {
            refusedLeaks += 1;
            if (examples.length < 5) {
              examples.push(
                `from ${sample.from} ${sample.method} ${sample.path} -> ${res.status} ${text.slice(0, 120)}`,
              );
            }
          }
        }
        // Every refusal names its code; HEAD answers carry no body by definition.
        if (res.status >= 400 && sample.method !== 'HEAD' && typeof code !== 'string') noCode += 1;
        if (
          (res.status >= 500 ||
            (res.status >= 400 && sample.method !== 'HEAD' && typeof code !== 'string')) &&
          examples.length < 5
        ) {
          examples.push(
            `${sample.method} ${sample.path.slice(0, 60)} -> ${res.status} ${text.slice(0, 120)}`,
          );
        }
      } catch (error) {
        crashes += 1;
        if (examples.length < 5)
          examples.push(`${sample.method} ${sample.path.slice(0, 60)} -> ${String(error)}`);
      }
      answered += 1;
      progress('fuzz: requests', answered, samples.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // Queued deliveries would reach CIAM through the poller: give it a moment to show any.
  progress('fuzz: waiting for queued deliveries');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  if (exited) crashes += 1;
  child.kill('SIGTERM');
  if (!exited) await new Promise((resolve) => child.once('exit', resolve));
  rmSync(configDir, { recursive: true, force: true });
  return {
    requests,
    status5xx,
    noCode,
    upstreamCalls,
    crashes,
    refusedSources,
    refusedLeaks,
    examples,
  };
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const requestCount = Number(process.env.FUZZ_REQUESTS ?? 10_000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it), ${requestCount} requests`);
  const progress = createProgress();
  const r = await runFuzz(requestCount, seed, progress.update);
  progress.clear();
  for (const example of r.examples) console.log(`  ${example}`);
  console.log(
    `  ${r.refusedSources} from refused addresses to allow-listed connections, ${r.refusedLeaks} not refused`,
  );
  console.log(
    `FUZZ requests=${r.requests} status_5xx=${r.status5xx} no_code=${r.noCode} upstream_calls=${r.upstreamCalls} crashes=${r.crashes}`,
  );
  const failures = r.status5xx + r.noCode + r.upstreamCalls + r.crashes + r.refusedLeaks;
  process.exit(failures === 0 ? 0 : 1);
}
