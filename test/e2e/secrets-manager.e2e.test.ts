import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, loadSeed, startEmulator } from '../../emulator/server.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';
import { createHandler } from '../../lib/webhook/handler.ts';
import { type HttpApiHandler, type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { webhookRoute } from '../../local/pipeline.ts';
import { postToDemoHmac } from '../helpers/stack.ts';

// The production composition root (no ADAPTER_SECRETS_FILE): every secret comes from Secrets
// Manager, faked at the SDK client handed to the runtime. The emulator knows only the rotated key.
const CREDENTIALS = 'ciam-webhook-adapter/ciam-credentials';
const HMAC = 'ciam-webhook-adapter/hmac';
const client = new SecretsManagerClient({ region: 'ap-southeast-1' });
const sm = mockClient(client);

let emulator: Emulator;
let server: LocalServer;

beforeAll(async () => {
  const seed = loadSeed('emulator/seed.json');
  seed.credentials = [{ SecretId: 'AKIDlocaldemo', SecretKey: 'rotated-secret-key' }];
  emulator = await startEmulator({ port: 0, seed });
  sm.on(GetSecretValueCommand, { SecretId: CREDENTIALS })
    .resolvesOnce({
      SecretString: JSON.stringify({ SecretId: 'AKIDlocaldemo', SecretKey: 'localdemosecret' }),
    })
    .resolves({
      SecretString: JSON.stringify({
        SecretId: ' AKIDlocaldemo ',
        SecretKey: 'rotated-secret-key\n',
      }),
    });
  sm.on(GetSecretValueCommand, { SecretId: HMAC }).resolves({
    SecretString: JSON.stringify({ secret: 'demo-hmac-secret' }),
  });
  const runtime = createRuntime(
    {
      ADAPTER_CONFIG: 'config/local.json',
      CIAM_ENDPOINT: emulator.url,
      // Needed by the demo's queued connection; this test posts to a sync one only.
      QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo',
    },
    { secretsManagerClient: client },
  );
  server = await startLocalServer({
    routes: [webhookRoute(createHandler(webhookDeps(runtime)) as unknown as HttpApiHandler)],
  });
});
afterAll(async () => {
  await server?.close();
  await emulator?.close();
  sm.restore();
});

const post = (body: string) => postToDemoHmac(server.url, body);

describe('secrets from Secrets Manager (SDK client faked)', () => {
  it('recovers from a rotated CIAM key with exactly one refetch of the credentials', async () => {
    const res = await post(JSON.stringify({ id: 'ext-carol', name: 'Rotated' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'applied', userId: 'demo-user-3' });
    const credentialReads = sm
      .commandCalls(GetSecretValueCommand)
      .filter((call) => call.args[0].input.SecretId === CREDENTIALS);
    expect(credentialReads).toHaveLength(2);
    // The lookup (refused, then repeated with the refetched key), the field clocks' read, the write.
    expect(emulator.calls.map((c) => [c.action, c.code ?? 'OK'])).toEqual([
      ['DescribeUser', 'AuthFailure.SignatureFailure'],
      ['DescribeUser', 'OK'],
      ['DescribeUserById', 'OK'],
      ['UpdateUser', 'OK'],
    ]);
  });

  it('caches the secrets between requests', async () => {
    const before = sm.commandCalls(GetSecretValueCommand).length;
    const res = await post(JSON.stringify({ id: 'ext-carol', name: 'Cached' }));
    expect(res.status).toBe(200);
    expect(sm.commandCalls(GetSecretValueCommand).length).toBe(before);
  });
});
