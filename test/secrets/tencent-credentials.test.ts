import { describe, expect, it } from 'vitest';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import { createTencentCredentials } from '../../lib/secrets/tencent-credentials.ts';
import type { SecretRef, SecretSource } from '../../lib/secrets/types.ts';

const NAME = 'ciam-webhook-adapter/ciam-credentials';

/** A SecretSource over an in-memory file whose content the test can change. */
const memorySecrets = (initial: unknown) => {
  let content = JSON.stringify({ [NAME]: initial });
  let reads = 0;
  const source = createFileSecretSource({
    path: 'memory.json',
    readFile: () => {
      reads += 1;
      return content;
    },
  });
  return {
    source,
    set: (value: unknown) => {
      content = JSON.stringify({ [NAME]: value });
    },
    reads: () => reads,
  };
};

describe('secrets/tencent-credentials', () => {
  it('reads SecretId and SecretKey, trimmed, without a token', async () => {
    const { source } = memorySecrets({ SecretId: ' AKIDexample\n', SecretKey: 'key ' });
    await expect(createTencentCredentials(source, NAME).get()).resolves.toStrictEqual({
      secretId: 'AKIDexample',
      secretKey: 'key',
    });
  });

  it('includes the session token when present', async () => {
    const { source } = memorySecrets({ SecretId: 'AKID', SecretKey: 'key', Token: ' tok ' });
    await expect(createTencentCredentials(source, NAME).get()).resolves.toStrictEqual({
      secretId: 'AKID',
      secretKey: 'key',
      token: 'tok',
    });
  });

  it.each([
    [{ SecretKey: 'topsecretkey' }],
    [{ SecretId: 'AKID' }],
    [{ SecretId: '  ', SecretKey: 'topsecretkey' }],
    [{ SecretId: 7, SecretKey: 'topsecretkey' }],
    ['topsecretkey'],
  ])('fails with SECRET_UNAVAILABLE, without the values, for %j', async (stored) => {
    const { source } = memorySecrets(stored);
    const error = await createTencentCredentials(source, NAME)
      .get()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE', expose: false });
    expect((error as Error).message).toContain(NAME);
    expect((error as Error).message).not.toContain('topsecretkey');
  });

  it('refetches the secret after invalidate', async () => {
    const memory = memorySecrets({ SecretId: 'AKIDold', SecretKey: 'old' });
    const credentials = createTencentCredentials(memory.source, NAME);
    await expect(credentials.get()).resolves.toMatchObject({ secretId: 'AKIDold' });
    memory.set({ SecretId: 'AKIDnew', SecretKey: 'new' });
    await expect(credentials.get()).resolves.toMatchObject({ secretId: 'AKIDold' });
    credentials.invalidate();
    await expect(credentials.get()).resolves.toMatchObject({
      secretId: 'AKIDnew',
      secretKey: 'new',
    });
    expect(memory.reads()).toBe(2);
  });

  it('invalidates only its own secret name', () => {
    const invalidated: string[] = [];
    const fake: SecretSource = {
      getString: (_ref: SecretRef) => Promise.resolve(''),
      getJson: () => Promise.resolve({}),
      invalidate: (name) => invalidated.push(name),
    };
    createTencentCredentials(fake, NAME).invalidate();
    expect(invalidated).toEqual([NAME]);
  });
});
