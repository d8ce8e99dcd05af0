import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSecretSource } from '../../lib/secrets/file.ts';

const SECRET = 'whsec_filesecretvalue';

describe('secrets/file', () => {
  let dir: string;
  let path: string;
  const write = (content: unknown) =>
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'secrets-file-'));
    path = join(dir, 'secrets.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads trimmed string secrets and keys of object secrets', async () => {
    write({ plain: ` ${SECRET}\n`, 'app/clerk': { signingSecret: `${SECRET} ` } });
    const secrets = createFileSecretSource({ path });
    await expect(secrets.getString({ name: 'plain' })).resolves.toBe(SECRET);
    await expect(secrets.getString({ name: 'app/clerk', key: 'signingSecret' })).resolves.toBe(
      SECRET,
    );
    await expect(secrets.getJson('app/clerk')).resolves.toEqual({ signingSecret: SECRET });
  });

  it('parses a string secret that holds a JSON object, like Secrets Manager does', async () => {
    write({ creds: JSON.stringify({ SecretId: 'AKID', SecretKey: 'key' }) });
    const secrets = createFileSecretSource({ path });
    await expect(secrets.getString({ name: 'creds', key: 'SecretId' })).resolves.toBe('AKID');
  });

  it('reads the file lazily and only once until invalidated', async () => {
    write({ s: 'one' });
    let reads = 0;
    const secrets = createFileSecretSource({
      path,
      readFile: async (p) => {
        reads += 1;
        const { readFile } = await import('node:fs/promises');
        return readFile(p, 'utf8');
      },
    });
    expect(reads).toBe(0);
    await secrets.getString({ name: 's' });
    await secrets.getString({ name: 's' });
    expect(reads).toBe(1);
  });

  it('re-reads the file after invalidate', async () => {
    write({ s: 'before' });
    const secrets = createFileSecretSource({ path });
    await expect(secrets.getString({ name: 's' })).resolves.toBe('before');
    write({ s: 'after' });
    await expect(secrets.getString({ name: 's' })).resolves.toBe('before');
    secrets.invalidate('s');
    await expect(secrets.getString({ name: 's' })).resolves.toBe('after');
  });

  it('fails with SECRET_UNAVAILABLE for a missing secret, key or non-string value', async () => {
    write({ obj: { k: SECRET, n: 42 }, plain: SECRET });
    const secrets = createFileSecretSource({ path });
    for (const ref of [
      { name: 'absent' },
      { name: 'obj', key: 'missing' },
      { name: 'obj', key: 'n' },
      { name: 'obj' },
      { name: 'plain', key: 'k' },
    ]) {
      const error = await secrets.getString(ref).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE', expose: false });
      expect((error as Error).message).toContain(ref.name);
      expect((error as Error).message).not.toContain(SECRET);
    }
  });

  it('fails with SECRET_UNAVAILABLE, without quoting the file, when it is not valid JSON', async () => {
    write(`{ "s": "${SECRET}" `);
    const error = await createFileSecretSource({ path })
      .getString({ name: 's' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('fails with SECRET_UNAVAILABLE when the file is missing', async () => {
    await expect(
      createFileSecretSource({ path: join(dir, 'nope.json') }).getString({ name: 's' }),
    ).rejects.toMatchObject({ code: 'SECRET_UNAVAILABLE' });
  });
});
