import { readFile as readFileFromDisk } from 'node:fs/promises';
import { createCachedSecretSource, secretUnavailable, secretValueOf } from './cached-source.ts';
import type { SecretSource } from './types.ts';

export interface FileSecretSourceOptions {
  /** JSON file: `{ "<secret name>": "<string>" | { "<key>": "<string>", ... } }`. */
  path: string;
  readFile?: (path: string) => Promise<string> | string;
}

/**
 * Local development stand-in for Secrets Manager, with the same semantics and errors. The file is
 * read when a secret is first needed and again after `invalidate`, so edits apply without a restart.
 */
export const createFileSecretSource = ({
  path,
  readFile = (file) => readFileFromDisk(file, 'utf8'),
}: FileSecretSourceOptions): SecretSource =>
  createCachedSecretSource(
    async (name) => {
      let text: string;
      try {
        text = await readFile(path);
      } catch (error) {
        throw secretUnavailable(name, undefined, `could not be read: cannot read ${path}`, error);
      }
      let secrets: unknown;
      try {
        secrets = JSON.parse(text);
      } catch {
        // The parse error quotes the file, which holds secrets: leave it out.
        throw secretUnavailable(name, undefined, `could not be read: ${path} is not valid JSON`);
      }
      if (typeof secrets !== 'object' || secrets === null || !Object.hasOwn(secrets, name)) {
        throw secretUnavailable(name, undefined, `was not found in ${path}`);
      }
      return secretValueOf(name, (secrets as Record<string, unknown>)[name]);
    },
    { now: () => 0, ttlMs: Number.POSITIVE_INFINITY },
  );
