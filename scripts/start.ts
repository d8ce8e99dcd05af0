// `npm start`: the CIAM emulator plus a local API Gateway in front of the real webhook handler.
import { loadSeed, startEmulator } from '../emulator/server.ts';
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

// The handler module reads its configuration from the environment at import, exactly as on
// Lambda; point it at the emulator and the demo secrets file first.
env.CIAM_ENDPOINT = emulator.url;
env.ADAPTER_CONFIG ??= 'config/local.json';
env.ADAPTER_SECRETS_FILE ??= 'config/local-secrets.json';
env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { handler } = await import('../handlers/webhook.ts');

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
console.log(`adapter        ${server.url}  (POST ${server.url}/webhooks/{connectionId})`);
console.log(`health         ${server.url}/health`);

const stop = async () => {
  await server.close();
  await emulator.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
