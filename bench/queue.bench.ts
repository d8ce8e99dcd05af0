// `npm run bench:queue`: queued delivery against CIAM's 20 requests/second per action, through the
// webhook function → embedded SQS FIFO queue → queue function → CIAM emulator, one BENCH_QUEUE
// line per scenario:
//   (a) 1,000 changes for 10 users in bursts of 10, no faults: CIAM calls (reads and writes) per
//       change and the drain time;
//   (b) the same with 30 % transient faults on the consumer's calls: drain time against (a), lost;
//   (c) the same with 5 % of UpdateUser attempts unanswered (timed out or dropped): drain time and
//       holds, with QUEUE_SETTLE_SECONDS at its default (60) and at 10;
//   (d) 1,500 changes for 1,500 distinct users (nothing to coalesce): the UpdateUser rate over a
//       60 s window once they flow, against CIAM's limit.
// In (a)–(c) the queue's clock runs QUEUE_SPEED times faster than CIAM's (as in `npm run soak`), so
// 30 s backoffs and settle times take a twentieth of the wall time while CIAM's rate limit and
// latencies stay real; drain times are wall seconds under that clock. On a terminal, stderr shows
// the phase (scripts/progress.ts); run from `npm run bench`, it is a pipe and quiet.
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { type FaultOptions, startEmulator } from '../emulator/server.ts';
import { startLocalServer } from '../local/http-api.ts';
import {
  clerkUserUpdated,
  externalIdOf,
  type LoadEvent,
  seedWithUsers,
  sendAll,
  userIdOf,
  writeQueuedConfig,
} from '../local/load.ts';
import { LOCAL_QUEUE_DEFAULTS, startLocalPipeline } from '../local/pipeline.ts';
import { createProgress } from '../scripts/progress.ts';

const CIAM_LIMIT = 20;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const QUEUE_SPEED = 20;
/** The client's per-attempt timeout in (c); an unanswered attempt lands 300 ms after it. */
const CLIENT_TIMEOUT_MS = 1000;

/** Requests in flight at once while sending (a)–(c): a burst of every user at a time. */
const SEND_CONCURRENCY = Number(process.env.BENCH_QUEUE_SEND_CONCURRENCY ?? 100);

const progress = createProgress();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts what the consumer logs: holds, and the changes each UpdateUser carried. */
class ConsumerLog extends Logger {
  /** Held records, and the writes they were held for (one hold of the group each). */
  holds = 0;
  readonly heldWrites = new Set<string>();
  readonly writes = new Map<string, Set<string>>();

  constructor() {
    super({ serviceName: 'bench', logLevel: 'SILENT' });
  }

  override info(_message: LogItemMessage, ...extraInput: LogItemExtraInput): void {
    const attributes = extraInput[0];
    if (typeof attributes !== 'object' || attributes instanceof Error) return;
    const { upstreamRequestId, messageId } = attributes;
    if (attributes.outcome === 'held') {
      this.holds += 1;
      if (typeof upstreamRequestId === 'string') this.heldWrites.add(upstreamRequestId);
    }
    if (typeof upstreamRequestId === 'string' && typeof messageId === 'string') {
      const carried = this.writes.get(upstreamRequestId) ?? new Set<string>();
      carried.add(messageId);
      this.writes.set(upstreamRequestId, carried);
    }
  }
}

interface BurstResult {
  changes: number;
  accepted: number;
  drainS: number;
  /** DescribeUserById and UpdateUser calls, failed ones included. */
  consumerCalls: number;
  writes: number;
  holds: number;
  heldWrites: number;
  /** Users whose final first name is not their newest change's. */
  lost: number;
  deadLetters: number;
}

/** (a)–(c): 10 users, 100 changes each, sent as bursts of 10 consecutive changes per user. */
const burstScenario = async (
  label: string,
  faults: FaultOptions | undefined,
  settleSeconds: number | undefined,
): Promise<BurstResult> => {
  const users = 10;
  const bursts = 10;
  const perBurst = 10;
  const seed = seedWithUsers('burst', users, 8300);
  const userStoreId = seed.userStores[0]?.UserStoreId ?? '';
  const emulator = await startEmulator({
    port: 0,
    seed,
    rateLimit: CIAM_LIMIT,
    ...(faults === undefined ? {} : { faults }),
  });
  const log = new ConsumerLog();
  const started = Date.now();
  const pipeline = startLocalPipeline({
    env: {
      ADAPTER_CONFIG: writeQueuedConfig({ timeoutMs: CLIENT_TIMEOUT_MS }),
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: emulator.url,
      ...(settleSeconds === undefined ? {} : { QUEUE_SETTLE_SECONDS: String(settleSeconds) }),
    },
    overrides: {
      logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
      recordOutcome: () => {},
    },
    consumer: { logger: log },
    queueNow: () => started + (Date.now() - started) * QUEUE_SPEED,
    // As in the soak: the fast clock must not shorten the visibility timeout below 6 × the
    // consumer's real timeout.
    visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds * QUEUE_SPEED,
    onPollerError: () => {},
  });
  const server = await startLocalServer({ routes: [pipeline.webhookRoute] });
  const bodies: LoadEvent[] = [];
  const newest = new Map<number, string>();
  for (let burst = 0; burst < bursts; burst += 1) {
    for (let user = 0; user < users; user += 1) {
      for (let k = 0; k < perBurst; k += 1) {
        const n = burst * perBurst + k;
        const name = `u${user}n${n}`;
        bodies.push(
          clerkUserUpdated(
            `msg_burst_${user}_${n}`,
            externalIdOf('burst', user),
            name,
            1_800_000_000_000 + n * 1000,
          ),
        );
        newest.set(user, name);
      }
    }
  }
  progress.update(`queue ${label}: sending`, 0, bodies.length);
  // A sender retries what was not accepted (a 503 while CIAM's lookups are rate limited, say).
  let pending: LoadEvent[] = bodies;
  const refusals = new Map<number, number>();
  for (let round = 0; round < 10 && pending.length > 0; round += 1) {
    const answers = await sendAll(`${server.url}/webhooks/clerk-queued`, pending, SEND_CONCURRENCY);
    for (const statuses of answers.values()) {
      for (const status of statuses) {
        if (status !== 202) refusals.set(status, (refusals.get(status) ?? 0) + 1);
      }
    }
    pending = pending.filter((event) => !(answers.get(event.id) ?? []).includes(202));
    progress.update(`queue ${label}: sending`, bodies.length - pending.length, bodies.length);
    if (pending.length > 0) await sleep(1000);
  }
  if (refusals.size > 0)
    console.error(`${label} refusals ${JSON.stringify(Object.fromEntries(refusals))}`);
  const accepted = bodies.length - pending.length;
  progress.update(`queue ${label}: draining`);
  await pipeline.poller.drain();
  const drainS = (Date.now() - started) / 1000;
  // Late attempts may still land; let them before reading the users' final state.
  await emulator.idle();
  let lost = 0;
  for (let user = 0; user < users; user += 1) {
    // Clerk's first name (with an empty last name) is the user's Nickname.
    if (
      emulator.store.getUser(userStoreId, userIdOf('burst', user))?.Nickname !== newest.get(user)
    ) {
      lost += 1;
    }
  }
  const consumerCalls = emulator.calls.filter(
    (c) => c.action === 'DescribeUserById' || c.action === 'UpdateUser',
  ).length;
  const result: BurstResult = {
    changes: bodies.length,
    accepted,
    drainS,
    consumerCalls,
    writes: log.writes.size,
    holds: log.holds,
    heldWrites: log.heldWrites.size,
    lost,
    deadLetters: pipeline.deadLetterQueue.stats().total,
  };
  await pipeline.stop();
  await server.close();
  await emulator.close();
  return result;
};

/** Which scenarios to run: `npm run bench` takes only (d), its report's row. Default all. */
const SCENARIOS = process.env.BENCH_QUEUE_SCENARIOS ?? 'abcd';

if (SCENARIOS.includes('a')) {
  const a = await burstScenario('(a)', undefined, undefined);
  console.log(
    `BENCH_QUEUE scenario=a changes=${a.changes} accepted=${a.accepted} users=10 burst=10 ciam_calls_per_change=${(a.consumerCalls / a.changes).toFixed(3)} writes=${a.writes} drain_s=${a.drainS.toFixed(1)} lost=${a.lost} dead_letters=${a.deadLetters} queue_clock=x${QUEUE_SPEED}`,
  );
  const b = await burstScenario(
    '(b)',
    {
      rates: { InternalError: 0.1, RequestLimitExceeded: 0.1, http502: 0.1 },
      actions: ['UpdateUser', 'DescribeUserById'],
      seed: 11,
    },
    undefined,
  );
  console.log(
    `BENCH_QUEUE scenario=b changes=${b.changes} accepted=${b.accepted} transient_faults=0.30 drain_s=${b.drainS.toFixed(1)} drain_ratio_to_a=${(b.drainS / a.drainS).toFixed(2)} ciam_calls_per_change=${(b.consumerCalls / b.changes).toFixed(3)} lost=${b.lost} dead_letters=${b.deadLetters} queue_clock=x${QUEUE_SPEED}`,
  );
  const uncertain: FaultOptions = {
    rates: { latency: 0.025, drop: 0.025 },
    actions: ['UpdateUser'],
    latencyMs: CLIENT_TIMEOUT_MS + 300,
    seed: 13,
  };
  for (const settle of [60, 10]) {
    const c = await burstScenario(`(c) settle ${settle}s`, uncertain, settle);
    console.log(
      `BENCH_QUEUE scenario=c changes=${c.changes} accepted=${c.accepted} uncertain_attempts=0.05 settle_s=${settle} held_records=${c.holds} held_writes=${c.heldWrites} held_group_s=${c.heldWrites * settle} drain_s=${c.drainS.toFixed(1)} drain_ratio_to_a=${(c.drainS / a.drainS).toFixed(2)} lost=${c.lost} dead_letters=${c.deadLetters} queue_clock=x${QUEUE_SPEED}`,
    );
  }
}

// (d): distinct users, so every change is a write of its own; the real queue clock.
const USERS = 1500;
if (SCENARIOS.includes('d')) {
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
  for (let user = 0; user < USERS; user += 1) {
    bodies.push(
      clerkUserUpdated(
        `msg_bench_${user}`,
        externalIdOf('bench', user),
        `b${user}`,
        1_800_000_000_000 + user,
      ),
    );
  }
  progress.update('queue (d): sending', 0, bodies.length);
  const answers = await sendAll(`${server.url}/webhooks/clerk-queued`, bodies, 20, (n) =>
    progress.update('queue (d): sending', n, bodies.length),
  );
  const accepted = [...answers.values()].filter((statuses) => statuses.includes(202)).length;

  const updates = () =>
    emulator.calls.filter((c) => c.action === 'UpdateUser' && c.code === undefined);
  // Measure from the first write, once the pipeline flows, for the window.
  progress.update('queue (d): waiting for the first UpdateUser');
  while (updates().length === 0) await sleep(50);
  const start = updates()[0]?.at ?? Date.now();
  // The window is counted from the calls' own times afterwards; waking each second only moves the
  // progress line.
  const windowS = Math.round(WINDOW_MS / 1000);
  for (let left = start + WINDOW_MS - Date.now(); left > 0; left = start + WINDOW_MS - Date.now()) {
    const elapsedS = Math.min(windowS, Math.floor((Date.now() - start) / 1000));
    progress.update('queue (d): measuring the window, seconds', elapsedS, windowS);
    await sleep(Math.min(left, 1000));
  }
  const inWindow = updates().filter((c) => c.at >= start && c.at < start + WINDOW_MS).length;
  const limited = emulator.calls.filter((c) => c.code?.startsWith('RequestLimitExceeded')).length;
  // Draining has no steps of its own to count: say how many changes CIAM has written meanwhile.
  const draining = progress.enabled
    ? setInterval(
        () => progress.update('queue (d): draining, applied', updates().length, bodies.length),
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
}
