import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretsManagerSource } from '../../lib/secrets/secrets-manager.ts';

const NAME = 'ciam-webhook-adapter/clerk';
const SECRET = 'whsec_topsecretvalue';

const sm = mockClient(SecretsManagerClient);

const calls = () => sm.commandCalls(GetSecretValueCommand).length;

/** Asserts a SECRET_UNAVAILABLE error that names the secret but leaks none of the given values. */
const expectUnavailable = async (promise: Promise<unknown>, leaked: string[]) => {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE', statusCode: 503, expose: false });
  const { message, details } = error as { message: string; details: unknown };
  expect(message).toContain(NAME);
  for (const value of leaked) {
    expect(message).not.toContain(value);
    expect(JSON.stringify(details)).not.toContain(value);
  }
};

describe('secrets/secrets-manager', () => {
  let clock: number;
  const now = () => clock;
  const source = (ttlMs?: number) =>
    createSecretsManagerSource({
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      now,
      ...(ttlMs === undefined ? {} : { ttlMs }),
    });

  beforeEach(() => {
    sm.reset();
    clock = 1_000_000;
  });
  afterEach(() => sm.reset());

  it('fetches by name and returns the trimmed value at the key', async () => {
    sm.on(GetSecretValueCommand, { SecretId: NAME }).resolves({
      SecretString: JSON.stringify({ signingSecret: `  ${SECRET}\n` }),
    });
    await expect(source().getString({ name: NAME, key: 'signingSecret' })).resolves.toBe(SECRET);
  });

  it('returns the whole trimmed SecretString when the secret is a plain string and no key is given', async () => {
    sm.on(GetSecretValueCommand, { SecretId: NAME }).resolves({ SecretString: `\t${SECRET} \n` });
    await expect(source().getString({ name: NAME })).resolves.toBe(SECRET);
  });

  it('treats a JSON value that is not an object as a plain string', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '"quoted"' });
    await expect(source().getString({ name: NAME })).resolves.toBe('"quoted"');
  });

  it('calls Secrets Manager once while the TTL lasts', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ signingSecret: SECRET }),
    });
    const secrets = source(60_000);
    await secrets.getString({ name: NAME, key: 'signingSecret' });
    clock += 59_999;
    await secrets.getString({ name: NAME, key: 'signingSecret' });
    await secrets.getJson(NAME);
    expect(calls()).toBe(1);
  });

  it('refetches once the TTL has passed', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ signingSecret: 'old' }) })
      .resolves({ SecretString: JSON.stringify({ signingSecret: 'new' }) });
    const secrets = source(60_000);
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe('old');
    clock += 60_000;
    await expect(secrets.getString({ name: NAME, key: 'signingSecret' })).resolves.toBe('new');
    expect(calls()).toBe(2);
  });

  it('defaults the TTL to five minutes', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const secrets = source();
    await secrets.getString({ name: NAME });
    clock += 299_999;
    await secrets.getString({ name: NAME });
    expect(calls()).toBe(1);
    clock += 1;
    await secrets.getString({ name: NAME });
    expect(calls()).toBe(2);
  });

  it('returns the rotated value with exactly one more call after invalidate', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ signingSecret: 'before-rotation' }) })
      .resolves({ SecretString: JSON.stringify({ signingSecret: 'after-rotation' }) });
    const secrets = source();
    const ref = { name: NAME, key: 'signingSecret' };
    await expect(secrets.getString(ref)).resolves.toBe('before-rotation');
    await expect(secrets.getString(ref)).resolves.toBe('before-rotation');
    expect(calls()).toBe(1);
    secrets.invalidate(NAME);
    await expect(secrets.getString(ref)).resolves.toBe('after-rotation');
    await expect(secrets.getString(ref)).resolves.toBe('after-rotation');
    expect(calls()).toBe(2);
  });

  it('does not cache a value fetched before invalidate was called', async () => {
    let release: (value: { SecretString: string }) => void = () => {};
    sm.on(GetSecretValueCommand)
      .callsFakeOnce(() => new Promise((resolve) => (release = resolve)))
      .resolves({ SecretString: 'fresh' });
    const secrets = source();
    const stale = secrets.getString({ name: NAME });
    await Promise.resolve();
    secrets.invalidate(NAME);
    await expect(secrets.getString({ name: NAME })).resolves.toBe('fresh');
    release({ SecretString: 'stale' });
    await expect(stale).resolves.toBe('stale');
    await expect(secrets.getString({ name: NAME })).resolves.toBe('fresh');
    expect(calls()).toBe(2);
  });

  it('shares one in-flight call among concurrent reads of the same secret', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ a: 'one', b: 'two' }) });
    const secrets = source();
    const values = await Promise.all([
      secrets.getString({ name: NAME, key: 'a' }),
      secrets.getString({ name: NAME, key: 'b' }),
      secrets.getJson(NAME),
    ]);
    expect(values).toEqual(['one', 'two', { a: 'one', b: 'two' }]);
    expect(calls()).toBe(1);
  });

  it('caches per name', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'a' }).resolves({ SecretString: 'value-a' });
    sm.on(GetSecretValueCommand, { SecretId: 'b' }).resolves({ SecretString: 'value-b' });
    const secrets = source();
    await expect(secrets.getString({ name: 'a' })).resolves.toBe('value-a');
    await expect(secrets.getString({ name: 'b' })).resolves.toBe('value-b');
    secrets.invalidate('a');
    await secrets.getString({ name: 'b' });
    expect(calls()).toBe(2);
  });

  it('does not cache a failed fetch', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ SecretString: SECRET });
    const secrets = source();
    await expectUnavailable(secrets.getString({ name: NAME }), []);
    await expect(secrets.getString({ name: NAME })).resolves.toBe(SECRET);
    expect(calls()).toBe(2);
  });

  it('fails with SECRET_UNAVAILABLE when the secret does not exist', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "can't find the specified secret", $metadata: {} }),
    );
    await expectUnavailable(source().getString({ name: NAME, key: 'signingSecret' }), []);
  });

  it('fails with SECRET_UNAVAILABLE naming the key, without the value, when the key is missing', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ other: SECRET }) });
    const promise = source().getString({ name: NAME, key: 'signingSecret' });
    await expectUnavailable(promise, [SECRET]);
    await expect(promise).rejects.toThrow('signingSecret');
  });

  it('fails with SECRET_UNAVAILABLE when the value at the key is not a string', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ signingSecret: { nested: SECRET }, n: 12345 }),
    });
    const secrets = source();
    await expectUnavailable(secrets.getString({ name: NAME, key: 'signingSecret' }), [SECRET]);
    await expectUnavailable(secrets.getString({ name: NAME, key: 'n' }), ['12345']);
  });

  it('fails with SECRET_UNAVAILABLE when the value is blank', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ k: '   ' }) });
    await expectUnavailable(source().getString({ name: NAME, key: 'k' }), []);
  });

  it('fails without quoting the secret when a key is asked of a plain-string or malformed secret', async () => {
    const malformed = `{"signingSecret": "${SECRET}"`;
    sm.on(GetSecretValueCommand, { SecretId: NAME })
      .resolvesOnce({ SecretString: SECRET })
      .resolves({ SecretString: malformed });
    const secrets = source(0);
    await expectUnavailable(secrets.getString({ name: NAME, key: 'signingSecret' }), [SECRET]);
    await expectUnavailable(secrets.getString({ name: NAME, key: 'signingSecret' }), [SECRET]);
    await expectUnavailable(secrets.getJson(NAME), [SECRET]);
  });

  it('fails when a JSON-object secret is read without a key', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ signingSecret: SECRET }),
    });
    await expectUnavailable(source().getString({ name: NAME }), [SECRET]);
  });

  it('fails when the secret has no SecretString', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new TextEncoder().encode(SECRET) });
    await expectUnavailable(source().getString({ name: NAME }), [SECRET]);
  });

  it('returns the object with trimmed string values from getJson', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ SecretId: ' AKID \n', SecretKey: 'key', n: 1 }),
    });
    await expect(source().getJson(NAME)).resolves.toEqual({
      SecretId: 'AKID',
      SecretKey: 'key',
      n: 1,
    });
  });

  it('shares one frozen getJson object per fetched value', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ SecretId: ' AKID ' }) });
    const secrets = source();
    const first = await secrets.getJson(NAME);
    expect(Object.isFrozen(first)).toBe(true);
    expect(await secrets.getJson(NAME)).toBe(first);
    secrets.invalidate(NAME);
    const refetched = await secrets.getJson(NAME);
    expect(refetched).not.toBe(first);
    expect(refetched).toEqual({ SecretId: 'AKID' });
  });
});
