// Init: fresh processes that load one bundle each (bench/probe.mjs), interleaved with bare Node
// so a busy machine weighs on every kind alike; each figure is the median above bare Node's.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Progress } from '../../scripts/progress.ts';
import type { InitFigure } from '../report.ts';
import { median } from './stats.ts';

const probe = (bundle: string, env: NodeJS.ProcessEnv): InitFigure => {
  const out = spawnSync(process.execPath, ['bench/probe.mjs', bundle], { env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`probe ${bundle} failed: ${out.stderr.slice(-2000)}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as InitFigure;
};

/** Each bundle's init above bare Node, from `runs` rounds of bare Node then every bundle in turn. */
export const measureInit = <Name extends string>(
  bundles: Readonly<Record<Name, string>>,
  options: { runs: number; env: NodeJS.ProcessEnv; progress: Progress },
): Record<Name, InitFigure> => {
  const names = Object.keys(bundles) as Name[];
  const bare: InitFigure[] = [];
  const runs = Object.fromEntries(names.map((name) => [name, [] as InitFigure[]])) as Record<
    Name,
    InitFigure[]
  >;
  for (let i = 0; i < options.runs; i += 1) {
    options.progress.update('cold start: bare Node', i + 1, options.runs);
    bare.push(probe('none', options.env));
    for (const name of names) {
      options.progress.update(`cold start: ${name}`, i + 1, options.runs);
      runs[name].push(probe(resolve(bundles[name]), options.env));
    }
  }
  const bareCpu = median(bare.map((r) => r.cpuMs));
  const bareWall = median(bare.map((r) => r.wallMs));
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        cpuMs: median(runs[name].map((r) => r.cpuMs)) - bareCpu,
        wallMs: median(runs[name].map((r) => r.wallMs)) - bareWall,
      },
    ]),
  ) as Record<Name, InitFigure>;
};
