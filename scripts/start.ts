// `npm start`: the CIAM emulator plus a local API Gateway in front of the real webhook handler.
import { loadSeed, startEmulator } from '../emulator/server.ts';
import { createRuntime } from '../lib/runtime.ts';
import { createHandler, webhookDeps } from '../lib/webhook/handler.ts';
import { type HttpApiHandler, startLocalServer } from '../local/http-api.ts';

const env = process.env;
const emulator = await startEmulator({
  port: Number(env.CIAM_EMULATOR_PORT ?? 3100),
  seed: loadSeed(env.CIAM_EMULATOR_SEED ?? 'emulator/seed.json'),
  rateLimit: Number(env.CIAM_EMULATOR_RATE_LIMIT ?? 20),
  // Action and outcome only: request bodies carry personal data.
  onCall: (call) =>
    console.log(
      `ciam ${call.action || '-'} ${call.code ?? 'OK'}${call.fault ? ` fault=${call.fault}` : ''}`,
    ),
});

// The same runtime and chain `handlers/webhook.ts` builds on Lambda, pointed at the emulator and
// the demo secrets file. Metrics stay off: EMF lines would drown the console.
const runtime = createRuntime(
  {
    ...env,
    CIAM_ENDPOINT: emulator.url,
    ADAPTER_CONFIG: env.ADAPTER_CONFIG ?? 'config/local.json',
    ADAPTER_SECRETS_FILE: env.ADAPTER_SECRETS_FILE ?? 'config/local-secrets.json',
  },
  { recordOutcome: () => {} },
);
const handler = createHandler(webhookDeps(runtime));

const server = await startLocalServer({
  routes: [
    {
      method: 'ANY',
      path: '/webhooks/{connectionId}',
      handler: handler as unknown as HttpApiHandler,
      functionName: 'webhook',
      timeoutMs: 29_000,
    },
  ],
  port: Number(env.PORT ?? 3000),
  ready: async () => (await fetch(`${emulator.url}/__emulator/health`)).ok,
});

console.log(`CIAM emulator  ${emulator.url}`);
console.log(`adapter        ${server.url}  (POST|GET ${server.url}/webhooks/{connectionId})`);
console.log(`health         ${server.url}/health`);

const stop = async () => {
  await server.close();
  await emulator.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
