import { createServer } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeepAliveFetch } from '../../lib/http/keep-alive-fetch.ts';
import { createExtensionSecretSource } from '../../lib/secrets/lambda-extension.ts';
import { readFromSecretsManager } from '../../lib/secrets/secrets-manager.ts';
import {
  type FakeSecretsExtension,
  startFakeSecretsExtension,
} from '../../local/secrets-extension.ts';

const TOKEN = 'session-token-for-the-extension';
const NAME = 'ciam-webhook-adapter/clerk';
const ARN =
  'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ciam-webhook-adapter/hmac-AbCdEf';
const OLD = 'whsec_old_value_still_cached';
const NEW = 'whsec_rotated_value';

// The direct path is the real SDK client, faked at the client as everywhere else.
const sm = mockClient(SecretsManagerClient);
const directCalls = () => sm.commandCalls(GetSecretValueCommand).length;

/** A port nothing listens on: bound, read, released. */
const closedPort = async () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as { code: string; message: string; details: unknown },
  );

describe('secrets/lambda-extension', () => {
  let extension: FakeSecretsExtension;
  let clock: number;
  let unavailable: number;
  const fetch = createKeepAliveFetch();
  const source = (port = extension.port, options: { timeoutMs?: number; token?: string } = {}) =>
    createExtensionSecretSource({
      port,
      token: options.token ?? TOKEN,
      fetch,
      now: () => clock,
      readDirect: readFromSecretsManager(new SecretsManagerClient({ region: 'ap-southeast-1' })),
      onUnavailable: () => {
        unavailable += 1;
      },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });

  beforeAll(async () => {
    extension = await startFakeSecretsExtension({ token: TOKEN, secrets: {} });
  });
  afterAll(async () => {
    await extension.close();
    sm.restore();
  });
  beforeEach(() => {
    extension.set(NAME, { signingSecret: OLD });
    extension.set('ciam-webhook-adapter/hmac', 'plain-hmac-secret');
    extension.requests.clear();
    extension.hang = false;
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ signingSecret: NEW }) });
    clock = 1_000_000;
    unavailable = 0;
  });
  afterEach(() => sm.reset());

  it('reads through the extension with the session token, and caches in process for 60 s', async () => {
    const secrets = source();
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(OLD);
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(OLD);
    expect(extension.requests.get(NAME)).toBe(1);
    clock += 60_001;
    await secrets.getString({ name: NAME, key: 'signingSecret' });
    expect(extension.requests.get(NAME)).toBe(2);
    expect(directCalls()).toBe(0);
  });

  it('passes an ARN as the secretId, URL-encoded, and returns a plain string secret', async () => {
    await expect(source().getString({ name: ARN })).resolves.toBe('plain-hmac-secret');
    expect(extension.requests.get(ARN)).toBe(1);
  });

  it('reads the next value straight from Secrets Manager after invalidate, bypassing the extension cache', async () => {
    const secrets = source();
    await secrets.getString({ name: NAME, key: 'signingSecret' });
    secrets.invalidate(NAME);
    // The extension still holds the old value; the fresh read must not come from it.
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(NEW);
    expect(directCalls()).toBe(1);
    expect(extension.requests.get(NAME)).toBe(1);
    // Later expiries go through the extension again.
    extension.set(NAME, { signingSecret: NEW });
    clock += 60_001;
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(NEW);
    expect(extension.requests.get(NAME)).toBe(2);
    expect(directCalls()).toBe(1);
  });

  it('keeps reading directly after invalidate until a direct read has worked', async () => {
    const secrets = source();
    secrets.invalidate(NAME);
    sm.reset();
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({
        SecretString: JSON.stringify({ signingSecret: NEW }),
      });
    expect(await failure(secrets.getString({ name: NAME, key: 'signingSecret' }))).toMatchObject({
      code: 'SECRET_UNAVAILABLE',
    });
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(NEW);
    expect(directCalls()).toBe(2);
    expect(extension.requests.get(NAME)).toBeUndefined();
  });

  it('falls back to Secrets Manager for good when nothing listens on the port, and says so once', async () => {
    const secrets = source(await closedPort());
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(NEW);
    clock += 60_001;
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(NEW);
    expect(directCalls()).toBe(2);
    expect(unavailable).toBe(1);
  });

  it('answers SECRET_UNAVAILABLE "was not found" for a secret the extension does not know', async () => {
    const error = await failure(source().getString({ name: 'ciam-webhook-adapter/missing' }));
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect(error.message).toContain('was not found');
    expect(directCalls()).toBe(0);
  });

  it('answers SECRET_UNAVAILABLE with the status when the extension refuses the token, leaking nothing', async () => {
    const error = await failure(
      source(extension.port, { token: 'wrong' }).getString({ name: NAME, key: 'signingSecret' }),
    );
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect(error.message).toContain('HTTP 401');
    expect(`${error.message}${JSON.stringify(error.details)}`).not.toContain(OLD);
    expect(`${error.message}${JSON.stringify(error.details)}`).not.toContain(TOKEN);
    // A refused request is a failure, not a missing extension: no silent switch to the SDK.
    expect(unavailable).toBe(0);
    expect(directCalls()).toBe(0);
  });

  it('gives up on a hung extension after its timeout with SECRET_UNAVAILABLE', async () => {
    extension.hang = true;
    const error = await failure(
      source(extension.port, { timeoutMs: 100 }).getString({ name: NAME, key: 'signingSecret' }),
    );
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect(error.message).toContain('Parameters and Secrets extension');
    expect(unavailable).toBe(0);
  });
});
