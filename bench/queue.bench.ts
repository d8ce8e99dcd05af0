// `npm run bench:queue`: how close queued delivery runs to CIAM's 20 requests/second without being
// refused. The emulator enforces 20/s per action; 1,500 changes (150 users × 10) go in through the
// webhook function, and the UpdateUser rate is measured over a 60 s window once they flow. The
// baseline is CIAM's own limit, so the ratio says how much of it the adapter uses. On a terminal,
// stderr shows the phase (scripts/progress.ts); run from `npm run bench`, it is a pipe and quiet.
import { Logger } from '@aws-lambda-powertools/logger';
import { startEmulator } from '../emulator/server.ts';
import { startLocalServer } from '../local/http-api.ts';
import {
  clerkUserUpdated,
  externalIdOf,
  type LoadEvent,
  seedWithUsers,
  sendAll,
  writeQueuedConfig,
} from '../local/load.ts';
import { startLocalPipeline } from '../local/pipeline.ts';
import { createProgress } from '../scripts/progress.ts';

const CIAM_LIMIT = 20;
const USERS = 150;
const CHANGES_PER_USER = 10;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);

const progress = createProgress();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const emulator = await startEmulator({
  port: 0,
  seed: seedWithUsers('bench', USERS, 8200),
  rateLimit: CIAM_LIMIT,
});

const pipeline = startLocalPipeline({
  env: {
    ADAPTER_CONFIG: writeQueuedConfig(),
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator.url,
  },
  overrides: {
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
    recordOutcome: () => {},
  },
});
const server = await startLocalServer({ routes: [pipeline.webhookRoute] });

const bodies: LoadEvent[] = [];
for (let k = 0; k < CHANGES_PER_USER; k += 1) {
  for (let user = 0; user < USERS; user += 1) {
    bodies.push(
      clerkUserUpdated(
        `msg_bench_${user}_${k}`,
        externalIdOf('bench', user),
        `b${user}c${k}`,
        1_800_000_000_000 + k * 1000,
      ),
    );
  }
}
progress.update('queue: sending', 0, bodies.length);
const answers = await sendAll(`${server.url}/webhooks/clerk-queued`, bodies, 20, (n) =>
  progress.update('queue: sending', n, bodies.length),
);
const accepted = [...answers.values()].filter((statuses) => statuses.includes(202)).length;

const updates = () =>
  emulator.calls.filter((c) => c.action === 'UpdateUser' && c.code === undefined);
// Measure from the first write, once the pipeline flows, for the window.
progress.update('queue: waiting for the first UpdateUser');
while (updates().length === 0) await sleep(50);
const start = updates()[0]?.at ?? Date.now();
// The window is counted from the calls' own times afterwards; waking each second only moves the
// progress line.
const windowS = Math.round(WINDOW_MS / 1000);
for (let left = start + WINDOW_MS - Date.now(); left > 0; left = start + WINDOW_MS - Date.now()) {
  const elapsedS = Math.min(windowS, Math.floor((Date.now() - start) / 1000));
  progress.update('queue: measuring the window, seconds', elapsedS, windowS);
  await sleep(Math.min(left, 1000));
}
const inWindow = updates().filter((c) => c.at >= start && c.at < start + WINDOW_MS).length;
const limited = emulator.calls.filter((c) => c.code?.startsWith('RequestLimitExceeded')).length;
// Draining has no steps of its own to count: say how many changes CIAM has written meanwhile.
const draining = progress.enabled
  ? setInterval(
      () => progress.update('queue: draining, applied', updates().length, bodies.length),
      250,
    )
  : undefined;
await pipeline.poller.drain();
clearInterval(draining);
progress.clear();
const rate = inWindow / (WINDOW_MS / 1000);
console.log(
  `accepted=${accepted}/${bodies.length} updates_in_window=${inWindow} window_s=${WINDOW_MS / 1000} dead_letters=${pipeline.deadLetterQueue.stats().total} ciam_calls=${emulator.calls.length}`,
);
console.log(
  `BENCH_QUEUE update_rate=${rate.toFixed(2)}/s ciam_limit=${CIAM_LIMIT}/s ratio=${(rate / CIAM_LIMIT).toFixed(3)} rate_limited=${limited}`,
);
await pipeline.stop();
await server.close();
await emulator.close();
