// What both functions talk to during `npm run bench`, in this process: a fake Secrets Manager
// (GetSecretValue only), a fake Parameters and Secrets Lambda Extension and the CIAM emulator. The
// baseline reads its secret through the SDK (Secrets Manager); the adapter through the extension
// when it supports it, else the same SDK. Also the adapter's config and the functions' environment.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SeedUser, startEmulator } from '../../emulator/server.ts';
import { seedWithUsers } from '../../local/load.ts';
import { getSecretValueBody, startFakeSecretsExtension } from '../../local/secrets-extension.ts';
import type { Kind, SecretsServed } from '../report.ts';

const SESSION_TOKEN = 'bench-session-token';

/** The Clerk connection with the stale-event guard off (bench only). */
export const UNGUARDED = 'clerk-unguarded';

export interface BenchServices {
  /** The functions' environment: the fakes' addresses, the config, quiet logs. */
  env: NodeJS.ProcessEnv;
  /** A scratch folder for the config and event files. */
  dir: string;
  /** The seeded CIAM users the deliveries update. */
  users: readonly SeedUser[];
  emulator: Awaited<ReturnType<typeof startEmulator>>;
  /** Every CIAM call the emulator answered so far (sync latency counts the calls of each request). */
  ciamCalls(): number;
  /** Runs one phase with one kind of process and credits it with the secrets served meanwhile. */
  as<T>(kind: Kind, run: () => Promise<T>): Promise<T>;
  secretsServed: Record<Kind, SecretsServed>;
  close(): Promise<void>;
}

export const startServices = async (options: { users: number }): Promise<BenchServices> => {
  const secrets = JSON.parse(readFileSync('config/local-secrets.json', 'utf8')) as Record<
    string,
    unknown
  >;
  let secretsManagerServed = 0;
  const secretsServer: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      secretsManagerServed += 1;
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        SecretId?: string;
      };
      const body = SecretId === undefined ? undefined : getSecretValueBody(secrets, SecretId);
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
  const extension = await startFakeSecretsExtension({ secrets, token: SESSION_TOKEN });

  let ciamCalls = 0;
  const seed = seedWithUsers('bench', options.users, 8300);
  const emulator = await startEmulator({
    port: 0,
    seed,
    rateLimit: 1_000_000,
    onCall: () => {
      ciamCalls += 1;
    },
  });

  // The adapter's config: config/local.json with the resolver cache production sets.
  const dir = mkdtempSync(join(tmpdir(), 'ciam-bench-'));
  const local = JSON.parse(readFileSync('config/local.json', 'utf8')) as {
    connections: { id: string; resolve: Record<string, unknown> }[];
  };
  for (const c of local.connections) c.resolve = { ...c.resolve, cacheTtlSeconds: 300 };
  // Bench only: Clerk with the stale-event guard off, so the adapter makes one CIAM call per
  // webhook as the baseline does. Shows what the guard's read costs, same run, same bundle.
  const clerkConnection = local.connections.find((c) => c.id === 'clerk');
  if (clerkConnection === undefined) throw new Error('config/local.json has no clerk connection');
  local.connections.push({
    ...clerkConnection,
    id: UNGUARDED,
    staleGuard: { enabled: false },
  } as (typeof local.connections)[number]);
  const configPath = join(dir, 'config.json');
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

  const secretsServed: Record<Kind, SecretsServed> = {
    adapter: { secretsManager: 0, extension: 0, extensionRefused: 0 },
    baseline: { secretsManager: 0, extension: 0, extensionRefused: 0 },
  };
  const refused = () =>
    extension.served.unauthorized + extension.served.notFound + extension.served.badRequest;

  return {
    env,
    dir,
    users: seed.userStores[0]?.Users ?? [],
    emulator,
    ciamCalls: () => ciamCalls,
    secretsServed,
    as: async (kind, run) => {
      const before = { sm: secretsManagerServed, ok: extension.served.ok, no: refused() };
      try {
        return await run();
      } finally {
        secretsServed[kind].secretsManager += secretsManagerServed - before.sm;
        secretsServed[kind].extension += extension.served.ok - before.ok;
        secretsServed[kind].extensionRefused += refused() - before.no;
      }
    },
    close: async () => {
      secretsServer.close();
      await extension.close();
      await emulator.close();
    },
  };
};
