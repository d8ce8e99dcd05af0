// Sync latency: loopback HTTP, Clerk, every CIAM call delayed by the emulator; what the function
// itself adds is the end-to-end time minus the delay × the CIAM calls that request made.
import type { Progress } from '../../scripts/progress.ts';
import type { Built } from '../build.ts';
import type { Kind, SyncSummary } from '../report.ts';
import type { BenchRequest } from '../source-events.ts';
import type { BenchServices } from './services.ts';
import { median, percentile, round3 } from './stats.ts';
import { httpWorker } from './warm.ts';

interface SyncSamples {
  raw: number[];
  own: number[];
  calls: number[];
  outcomes: Record<string, number>;
}

const syncSummary = ({ raw, own, calls, outcomes }: SyncSamples): SyncSummary => ({
  n: raw.length,
  ciamCallsPerRequest: { min: Math.min(...calls), median: median(calls), max: Math.max(...calls) },
  rawP50Ms: round3(percentile(raw, 0.5)),
  rawP99Ms: round3(percentile(raw, 0.99)),
  ownP50Ms: round3(percentile(own, 0.5)),
  ownP99Ms: round3(percentile(own, 0.99)),
  outcomes,
});

export interface SyncOptions {
  /** Measured requests per function. */
  n: number;
  latencyMs: number;
  /** Users the warm-up resolves once each. */
  users: number;
  clerkEvents: (path: string, n: number) => BenchRequest[];
  progress: Progress;
}

/**
 * Both functions at once, their requests interleaved (the order alternating), so a busy machine
 * weighs on both alike; one request in flight at a time, so the emulator's count of calls during
 * a request is that request's CIAM calls.
 */
export const measureSync = async (
  built: Record<Kind, Built>,
  services: BenchServices,
  options: SyncOptions,
): Promise<Record<Kind, SyncSummary>> => {
  const kinds: Kind[] = ['adapter', 'baseline'];
  const { emulator, as } = services;
  // Started and warmed one after the other, so the secrets each reads at start (middy prefetches
  // at load) are credited to it: unmeasured and undelayed, every user resolved once.
  emulator.faults.clear();
  const warmed = async (kind: Kind) =>
    as(kind, async () => {
      options.progress.update(`sync latency: warming ${kind}`);
      const worker = await httpWorker(built[kind], 0, services.env, options.progress);
      for (const request of options.clerkEvents('/webhooks/clerk', options.users)) {
        await worker.send(request);
      }
      return worker;
    });
  const workers = { adapter: await warmed('adapter'), baseline: await warmed('baseline') };
  const requests = {
    adapter: options.clerkEvents('/webhooks/clerk', options.n),
    baseline: options.clerkEvents('/webhooks/clerk', options.n),
  };
  const samples: Record<Kind, SyncSamples> = {
    adapter: { raw: [], own: [], calls: [], outcomes: {} },
    baseline: { raw: [], own: [], calls: [], outcomes: {} },
  };
  emulator.faults.configure({ rates: { latency: 1 }, latencyMs: options.latencyMs });
  try {
    for (let i = 0; i < options.n; i += 1) {
      for (const kind of i % 2 === 0 ? kinds : [...kinds].reverse()) {
        const request = requests[kind][i];
        if (request === undefined) continue;
        const into = samples[kind];
        const before = services.ciamCalls();
        const start = performance.now();
        const outcome = await as(kind, () => workers[kind].send(request));
        const ms = performance.now() - start;
        const made = services.ciamCalls() - before;
        into.raw.push(ms);
        into.own.push(ms - options.latencyMs * made);
        into.calls.push(made);
        into.outcomes[outcome] = (into.outcomes[outcome] ?? 0) + 1;
      }
      options.progress.update('sync latency: requests per function', i + 1, options.n);
    }
  } finally {
    emulator.faults.clear();
  }
  await Promise.all(kinds.map((kind) => workers[kind].done()));
  return { adapter: syncSummary(samples.adapter), baseline: syncSummary(samples.baseline) };
};
