import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, loadSeed, startEmulator } from '../../emulator/server.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';
import { createHandler } from '../../lib/webhook/handler.ts';
import { type HttpApiHandler, type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { webhookRoute } from '../../local/pipeline.ts';
import {
  type FakeSecretsExtension,
  startFakeSecretsExtension,
} from '../../local/secrets-extension.ts';
import { postToDemoHmac } from '../helpers/stack.ts';

// The production composition root as Lambda runs it: no secrets file, no injected client, a
// session token and the extension's port in the environment. The extension stand-in still
// caches the old CIAM key after a rotation; the emulator knows only the rotated one. Secrets
// Manager itself (the direct read after an auth failure) is faked at the SDK client class.
const CREDENTIALS = 'ciam-webhook-adapter/ciam-credentials';
const HMAC = 'ciam-webhook-adapter/hmac';
const TOKEN = 'lambda-session-token';
const sm = mockClient(SecretsManagerClient);

let emulator: Emulator;

/** What Lambda sets (bar the session token) and the demo config with its queue. */
const lambdaEnv = () => ({
  ADAPTER_CONFIG: 'config/local.json',
  CIAM_ENDPOINT: emulator.url,
  QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo',
  AWS_LAMBDA_FUNCTION_NAME: 'ciam-webhook-adapter-test-webhook',
  AWS_REGION: 'ap-southeast-1',
  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
  POWERTOOLS_LOG_LEVEL: 'ERROR',
});
let extension: FakeSecretsExtension;
let server: LocalServer;

beforeAll(async () => {
  const seed = loadSeed('emulator/seed.json');
  seed.credentials = [{ SecretId: 'AKIDlocaldemo', SecretKey: 'rotated-secret-key' }];
  emulator = await startEmulator({ port: 0, seed });
  extension = await startFakeSecretsExtension({
    token: TOKEN,
    secrets: {
      [CREDENTIALS]: { SecretId: 'AKIDlocaldemo', SecretKey: 'localdemosecret' },
      [HMAC]: { secret: 'demo-hmac-secret' },
    },
  });
  sm.on(GetSecretValueCommand, { SecretId: CREDENTIALS }).resolves({
    SecretString: JSON.stringify({ SecretId: 'AKIDlocaldemo', SecretKey: 'rotated-secret-key' }),
  });
  const runtime = createRuntime({ ...lambdaEnv(), AWS_SESSION_TOKEN: TOKEN });
  server = await startLocalServer({
    routes: [webhookRoute(createHandler(webhookDeps(runtime)) as unknown as HttpApiHandler)],
  });
});
afterAll(async () => {
  await server?.close();
  await extension?.close();
  await emulator?.close();
  sm.restore();
});

const post = (body: string) => postToDemoHmac(server.url, body);

describe('secrets from the Parameters and Secrets extension (Lambda environment)', () => {
  it('reads every secret through the extension, and the rotated CIAM key straight from Secrets Manager', async () => {
    const res = await post(JSON.stringify({ id: 'ext-carol', name: 'Rotated' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'applied', userId: 'demo-user-3' });
    expect(extension.requests.get(HMAC)).toBe(1);
    expect(extension.requests.get(CREDENTIALS)).toBe(1);
    // The extension would have answered the old key again: the refresh went to Secrets Manager.
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      CREDENTIALS,
    ]);
    // The lookup (refused, then repeated with the new key), the field clocks' read, the write.
    expect(emulator.calls.map((c) => [c.action, c.code ?? 'OK'])).toEqual([
      ['DescribeUser', 'AuthFailure.SignatureFailure'],
      ['DescribeUser', 'OK'],
      ['DescribeUserById', 'OK'],
      ['UpdateUser', 'OK'],
    ]);
  });

  it('serves later requests from the in-process cache: no extension or Secrets Manager request', async () => {
    const res = await post(JSON.stringify({ id: 'ext-carol', name: 'Cached' }));
    expect(res.status).toBe(200);
    expect(extension.requests.get(HMAC)).toBe(1);
    expect(extension.requests.get(CREDENTIALS)).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads with the Secrets Manager SDK when there is no session token to give the extension', async () => {
    const runtime = createRuntime(lambdaEnv());
    const before = extension.requests.get(CREDENTIALS);
    await expect(runtime.secrets.getJson(CREDENTIALS)).resolves.toMatchObject({
      SecretKey: 'rotated-secret-key',
    });
    expect(extension.requests.get(CREDENTIALS)).toBe(before);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
