import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/index.ts';
import {
  type DemoConnection,
  type DemoSample,
  demoConnections,
  demoLines,
  formatTable,
  runDemo,
  SAMPLE_FILES,
} from '../../local/demo.ts';
import { type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { queueAdminRoutes } from '../../local/queue-admin.ts';
import { readEvent } from '../helpers/events.ts';

// `npm run demo` against what `npm start` runs: emulator, both functions, the local queue.

let emulator: Emulator;
let pipeline: LocalPipeline;
let server: LocalServer;
let runtime: Runtime;

const quiet = { logger: new Logger({ logLevel: 'SILENT' }), recordOutcome: () => {} };
const readSample = (sample: DemoSample) =>
  readEvent(SAMPLE_FILES[sample] as Parameters<typeof readEvent>[0]).body ?? '';

beforeAll(async () => {
  emulator = await startEmulator({ rateLimit: 0 });
  const env = {
    ADAPTER_CONFIG: 'config/local.json',
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator.url,
  };
  pipeline = startLocalPipeline({ env, overrides: quiet, pollIntervalMs: 20 });
  server = await startLocalServer({
    routes: [
      pipeline.webhookRoute,
      ...queueAdminRoutes({ queue: pipeline.queue, deadLetterQueue: pipeline.deadLetterQueue }),
    ],
  });
  runtime = createRuntime(env, quiet);
});

afterAll(async () => {
  await pipeline?.stop();
  await server?.close();
  await emulator?.close();
});

describe('demoConnections / demoLines', () => {
  it('lists every demo connection a sample can be posted to, with its URL and command', () => {
    const demos = demoConnections(runtime.config);
    expect(demos.map((demo) => [demo.id, demo.sample, demo.delivery])).toEqual([
      ['clerk', 'clerk', 'sync'],
      ['clerk-queued', 'clerk', 'queued'],
      ['workos', 'workos', 'sync'],
      ['auth0', 'auth0', 'sync'],
      ['hmac', 'hmac', 'sync'],
      ['acme-hmac', 'acme-hmac', 'sync'],
    ]);
    const lines = demoLines('http://127.0.0.1:3000', demos);
    expect(lines[1]).toMatch(
      /^ {2}clerk-queued {2}queued {2}http:\/\/127\.0\.0\.1:3000\/webhooks\/clerk-queued {2}npm run demo -- clerk-queued$/,
    );
    expect(demoLines('http://127.0.0.1:3300', demos, 'PORT=3300')[0]).toMatch(
      /webhooks\/clerk +PORT=3300 npm run demo -- clerk$/,
    );
  });
});

describe('runDemo', () => {
  it('sends one sample per connection, waits for the queued one, and reports each change', async () => {
    const lines: string[] = [];
    const connections = demoConnections(runtime.config);
    const rows = await runDemo({
      baseUrl: server.url,
      connections,
      readSample,
      secrets: runtime.secrets,
      // Each connection's tenant's client: acme's key sees only acme-store.
      tencent: (connection) => runtime.tenants.of(connection).tencent,
      log: (line) => lines.push(line),
    });
    // One user sample per connection, and a group membership sample on the sync Clerk and WorkOS.
    expect(lines).toHaveLength(connections.length + 2);
    const answers = new Map(rows.map((row) => [row.connection, row.answer]));
    expect(Object.fromEntries(answers)).toEqual({
      clerk: '200 applied',
      'clerk (group)': '200 applied',
      'clerk-queued': '202 queued, then applied',
      workos: '200 applied',
      'workos (group)': '200 applied',
      auth0: '200 applied',
      hmac: '200 applied',
      'acme-hmac': '200 applied',
    });
    // The second tenant's connection wrote its own account's user.
    expect(rows).toContainEqual(
      expect.objectContaining({
        connection: 'acme-hmac',
        userId: 'acme-user-1',
        field: 'Nickname',
        before: '',
        after: 'Dana Acme',
      }),
    );
    // The membership events put their users in the seed's Staff group.
    expect(rows).toContainEqual(
      expect.objectContaining({
        connection: 'workos (group)',
        userId: 'demo-user-2',
        field: 'groups',
        after: expect.stringContaining('Staff'),
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        connection: 'clerk (group)',
        userId: 'demo-user-3',
        field: 'groups',
        after: expect.stringContaining('Staff'),
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        connection: 'clerk',
        userId: 'demo-user-1',
        field: 'Nickname',
        before: '',
        after: 'Alice Anders',
      }),
    );
    expect(rows).toContainEqual(
      expect.objectContaining({
        connection: 'clerk-queued',
        userId: 'demo-user-1',
        field: 'Nickname',
        before: 'Alice Anders',
        after: 'Alice Anders (queued)',
      }),
    );
    const table = formatTable(rows).split('\n');
    expect(table[0]).toMatch(/^connection\s+answer\s+user\s+field\s+before\s+after$/);
    expect(table).toHaveLength(rows.length + 1);
  });

  it('reports a connection that changed nothing with an empty row', async () => {
    const [clerk] = demoConnections(runtime.config) as [DemoConnection];
    const { groupSample: _group, ...userSampleOnly } = clerk;
    const rejected = await runDemo({
      baseUrl: server.url,
      connections: [userSampleOnly],
      readSample: () => JSON.stringify({ type: 'user.updated', object: 'event', data: {} }),
      secrets: runtime.secrets,
      tencent: runtime.tenants.byId('default').tencent,
    });
    expect(rejected).toEqual([
      {
        connection: 'clerk',
        answer: '400 PAYLOAD_INVALID',
        userId: '',
        field: '',
        before: '',
        after: '',
      },
    ]);
  });
});
