// The signer and queue benchmarks, run as they are (`npm run bench:sign`, `npm run bench:queue`):
// their line the report reads. Their stderr is a pipe here, so they show no progress of their own.
import { spawnSync } from 'node:child_process';

const lastLine = (args: string[], prefix: string, extraEnv: Record<string, string> = {}) => {
  const out = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, ...extraEnv },
    encoding: 'utf8',
  });
  return out.stdout.split('\n').find((l) => l.startsWith(prefix)) ?? '';
};

/** `npm run bench:sign`'s `ratio:` line. */
export const signLine = () => lastLine(['bench/sign.bench.ts'], 'ratio:');

/** `npm run bench:queue`'s `BENCH_QUEUE` line, measured over `windowMs`. */
export const queueLine = (windowMs: number) =>
  lastLine(['bench/queue.bench.ts'], 'BENCH_QUEUE', {
    BENCH_WINDOW_MS: String(windowMs),
    BENCH_QUEUE_SCENARIOS: 'd',
  });
