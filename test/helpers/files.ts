import { readFileSync } from 'node:fs';

/**
 * A file of the repository as parsed JSON (`config/local.json`, `events/...`), found from this
 * file rather than the working directory. The caller names the shape it expects.
 */
export const readJson = <T = unknown>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as T;
