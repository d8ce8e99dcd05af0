/**
 * Writes config/schema.json (the `$schema` of connection configs) from the sources' option schemas.
 * `--check` writes nothing and exits 1 when the file is stale, for CI.
 * Usage: tsx scripts/gen-config-schema.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { buildConfigSchema } from '../lib/config/schema.ts';
import { SOURCE_OPTION_SCHEMAS } from './option-schemas.ts';

const target = new URL('../config/schema.json', import.meta.url);

const text = `${JSON.stringify(buildConfigSchema(SOURCE_OPTION_SCHEMAS), null, 2)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  // Compare as data: the formatter may lay the JSON out differently.
  const stale =
    current === '' || JSON.stringify(JSON.parse(current)) !== JSON.stringify(JSON.parse(text));
  if (stale) {
    console.error('config/schema.json is out of date: run `tsx scripts/gen-config-schema.ts`');
    process.exit(1);
  }
  console.log('config/schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log('wrote config/schema.json');
}
