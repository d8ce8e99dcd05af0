// `npm run demo [-- <connection>…]`: sends one signed sample (events/<source>.user-updated.json,
// as a new event stamped now) to each demo connection of `npm start` (all of them when none is
// named, the queued one included), waits for the local queue to apply queued ones, and prints a
// before/after table of the emulator's users it changed.
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { createRuntime } from '../lib/runtime/index.ts';
import { demoConnections, formatTable, runDemo, SAMPLE_FILES } from '../local/demo.ts';

const env = process.env;
// The adapter's own wiring, pointed at the emulator: its config, secrets file and credentials.
const runtime = createRuntime(
  {
    ADAPTER_CONFIG: env.ADAPTER_CONFIG ?? 'config/local.json',
    ADAPTER_SECRETS_FILE: env.ADAPTER_SECRETS_FILE ?? 'config/local-secrets.json',
    CIAM_ENDPOINT: env.CIAM_ENDPOINT ?? `http://127.0.0.1:${env.CIAM_EMULATOR_PORT ?? 3100}`,
  },
  { logger: new Logger({ logLevel: 'SILENT' }), recordOutcome: () => {} },
);
const all = demoConnections(runtime.config);
const names = process.argv.slice(2);
const unknown = names.filter((name) => !all.some((c) => c.id === name));
if (unknown.length > 0) {
  console.error(`unknown demo connection ${unknown.join(', ')}`);
  console.error(`usage: npm run demo [-- <${all.map((c) => c.id).join('|')}>…]`);
  process.exit(2);
}
const rows = await runDemo({
  baseUrl: `http://127.0.0.1:${env.PORT ?? 3000}`,
  connections: names.length === 0 ? all : all.filter((c) => names.includes(c.id)),
  readSample: (sample) =>
    JSON.parse(readFileSync(`events/${SAMPLE_FILES[sample]}.json`, 'utf8')).body as string,
  secrets: runtime.secrets,
  // Each connection's tenant's client: a tenant's credentials see only its own user stores.
  tencent: (connection) => runtime.tenants.of(connection).tencent,
  log: console.log,
});
console.log(`\n${formatTable(rows)}`);
