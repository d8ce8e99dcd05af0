// `npm start`: the CIAM emulator, and both functions as deployed behind a local API Gateway: the
// webhook function (sync connections apply at once, queued ones go to an embedded SQS FIFO queue)
// and the queue function, fed by a poller that behaves like the event source mapping.
import { readFileSync } from 'node:fs';
import { loadSeed, startEmulator } from '../emulator/server.ts';
import { loadConfig } from '../lib/config/load.ts';
import { demoConnections, demoLines } from '../local/demo.ts';
import { startLocalServer } from '../local/http-api.ts';
import { startLocalPipeline } from '../local/pipeline.ts';
import { queueAdminRoutes } from '../local/queue-admin.ts';
import { startSourceApiStandIns } from '../local/source-apis.ts';

const env = process.env;
const emulator = await startEmulator({
  port: Number(env.CIAM_EMULATOR_PORT ?? 3100),
  seed: loadSeed(env.CIAM_EMULATOR_SEED ?? 'emulator/seed.json'),
  rateLimit: Number(env.CIAM_EMULATOR_RATE_LIMIT ?? 20),
  // Action, outcome and the key that signed it (one per tenant): bodies carry personal data.
  onCall: (call) =>
    console.log(
      `ciam ${call.action || '-'} ${call.code ?? 'OK'}${call.fault ? ` fault=${call.fault}` : ''}${call.secretId ? ` key=${call.secretId}` : ''}`,
    ),
});

// Stand-ins of the Clerk, WorkOS, Auth0 and Okta user APIs, seeded with the demo users, for
// `npm run reconcile -- --local` (config/local.json's reconcile.api blocks name them).
const sourceApis = await startSourceApiStandIns({ port: Number(env.SOURCE_APIS_PORT ?? 3300) });

// The same runtimes and chains `handlers/*.ts` build on Lambda, pointed at the emulator and the
// demo secrets file. Metrics stay off: EMF lines would drown the console.
const pipeline = startLocalPipeline({
  env: {
    ...env,
    CIAM_ENDPOINT: emulator.url,
    ADAPTER_CONFIG: env.ADAPTER_CONFIG ?? 'config/local.json',
    ADAPTER_SECRETS_FILE: env.ADAPTER_SECRETS_FILE ?? 'config/local-secrets.json',
  },
  overrides: { recordOutcome: () => {} },
});

const server = await startLocalServer({
  routes: [
    pipeline.webhookRoute,
    pipeline.scimRoute,
    ...queueAdminRoutes({ queue: pipeline.queue, deadLetterQueue: pipeline.deadLetterQueue }),
  ],
  port: Number(env.PORT ?? 3000),
  ready: async () => (await fetch(`${emulator.url}/__emulator/health`)).ok,
});

console.log(`CIAM emulator  ${emulator.url}`);
console.log(`adapter        ${server.url}  (POST|GET ${server.url}/webhooks/{connectionId})`);
console.log(`queue          ${server.url}/__queue/stats   (npm run dlq -- --local list)`);
console.log(`scim           ${server.url}/scim/v2/{connectionId}/Users`);
console.log(`health         ${server.url}/health`);
console.log(`source APIs    ${sourceApis.url}/{clerk,workos,auth0,okta}  (user API stand-ins)`);
const demos = demoConnections(
  loadConfig(
    { configPath: env.ADAPTER_CONFIG ?? 'config/local.json' },
    { readFile: (path) => readFileSync(path, 'utf8') },
  ),
);
console.log('\ndemo connections (npm run demo sends one sample to each and shows what changed):');
// Non-default ports travel with the command, so it reaches this adapter and emulator.
const portEnv = ['PORT', 'CIAM_EMULATOR_PORT']
  .filter((name) => env[name] !== undefined && env[name] !== '')
  .map((name) => `${name}=${env[name]}`)
  .join(' ');
for (const line of demoLines(server.url, demos, portEnv)) console.log(line);
console.log(
  `  scim (SCIM 2.0, as Entra ID or Okta provisioning calls it):\n    curl -s -H 'authorization: Bearer demo-scim-token' '${server.url}/scim/v2/scim/Users?filter=userName%20eq%20%22alice%22'`,
);

const stop = async () => {
  await pipeline.stop();
  await server.close();
  await emulator.close();
  await sourceApis.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
