// Builds the adapter's webhook function and the baseline with the esbuild settings serverless.yml
// gives serverless-esbuild (custom.esbuild), so both are measured as they would ship.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { load } from 'js-yaml';

export interface Built {
  name: string;
  bundle: string;
  bundleBytes: number;
  zipBytes: number;
  metafile: string;
}

const ESBUILD_KEYS = [
  'bundle',
  'minify',
  'sourcemap',
  'keepNames',
  'target',
  'platform',
  'format',
  'banner',
  'mainFields',
  'external',
  'define',
  'treeShaking',
  'legalComments',
] as const;

export const esbuildSettings = (): BuildOptions => {
  const yml = load(readFileSync('serverless.yml', 'utf8')) as {
    custom?: { esbuild?: Record<string, unknown> };
  };
  const settings = yml.custom?.esbuild ?? {};
  const picked: Record<string, unknown> = {};
  for (const key of ESBUILD_KEYS) if (settings[key] !== undefined) picked[key] = settings[key];
  return picked as BuildOptions;
};

const OUT = 'bench/.out';

export const buildOne = async (
  name: string,
  entry: string,
  extraFiles: readonly string[] = [],
): Promise<Built> => {
  const dir = join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const settings = esbuildSettings();
  // The extension tells Node the module format, whatever the repository's package.json says.
  const file = settings.format === 'esm' ? 'handler.mjs' : 'handler.cjs';
  const bundle = join(dir, file);
  const result = await build({
    ...settings,
    entryPoints: [entry],
    outfile: bundle,
    metafile: true,
    logLevel: 'error',
  });
  const metafile = join(dir, 'meta.json');
  writeFileSync(metafile, JSON.stringify(result.metafile));
  const zip = join(OUT, `${name}.zip`);
  rmSync(zip, { force: true });
  const mapFiles = (() => {
    try {
      statSync(`${bundle}.map`);
      return [`${file}.map`];
    } catch {
      return [];
    }
  })();
  execFileSync('zip', ['-q', '-9', '-X', '-j', zip, bundle, ...mapFiles.map((f) => join(dir, f))]);
  if (extraFiles.length > 0) execFileSync('zip', ['-q', '-9', '-X', zip, ...extraFiles]);
  return {
    name,
    bundle,
    bundleBytes: statSync(bundle).size,
    zipBytes: statSync(zip).size,
    metafile,
  };
};
