// The soak run behind `npm run soak` (and, small, a test): changes for many users, sent
// concurrently, partly out of order and partly twice, through the webhook function → embedded SQS
// FIFO queue → queue function → CIAM emulator, with 30 % transient and 2 % permanent faults
// injected into CIAM. It counts what was lost, what CIAM wrote out of order, and dead letters
// without a reason, from what CIAM really wrote (late writes of abandoned attempts included).
import { Logger } from '@aws-lambda-powertools/logger';
import { startEmulator } from '../emulator/server.ts';
import { startLocalServer } from './http-api.ts';
import {
  clerkUserUpdated,
  externalIdOf,
  type LoadEvent,
  seedWithUsers,
  sendAll,
  userIdOf,
  writeQueuedConfig,
} from './load.ts';
import { LOCAL_QUEUE_DEFAULTS, startLocalPipeline } from './pipeline.ts';

export interface SoakOptions {
  users: number;
  changesPerUser: number;
  /** Share of changes delivered a second time, later. */
  duplicateShare: number;
  concurrency: number;
  /** The queues' clock runs this much faster, so 30 s backoffs take 1.5 s; CIAM's clock is real. */
  queueSpeed: number;
  /** The Tencent client's per-attempt timeout; injected latencies exceed it by 300 ms. */
  clientTimeoutMs: number;
  /** Seeds the send order, duplicates and CIAM's faults, so a failing run can be replayed. */
  seed: number;
  /** Inject faults into CIAM (30 % transient, 2 % permanent). */
  faults: boolean;
  debug?: boolean;
  log?: (line: string) => void;
  /** Hears which phase the run is in, and how far (`npm run soak`'s progress line). */
  progress?: (label: string, done?: number, total?: number) => void;
}

export interface SoakReport {
  sent: number;
  accepted: number;
  refused: number;
  applied: number;
  dlq: number;
  lost: number;
  outOfOrder: number;
  duplicatesAppliedLate: number;
  deadLettersWithoutReason: number;
  usersOnWrongFinalState: number;
  ciamCalls: number;
  faultsInjected: number;
  seconds: number;
}

export const SOAK_DEFAULTS: SoakOptions = {
  users: 100,
  changesPerUser: 10,
  duplicateShare: 0.1,
  concurrency: 25,
  queueSpeed: 20,
  clientTimeoutMs: 1000,
  seed: 7,
  faults: true,
};

/** True when nothing acknowledged was lost or written out of order and every dead letter says why. */
export const soakPassed = (report: SoakReport): boolean =>
  report.lost === 0 &&
  report.outOfOrder === 0 &&
  report.duplicatesAppliedLate === 0 &&
  report.deadLettersWithoutReason === 0 &&
  report.refused === 0;

export const runSoak = async (options: SoakOptions): Promise<SoakReport> => {
  const USERS = options.users;
  const CHANGES_PER_USER = options.changesPerUser;
  const DUPLICATE_SHARE = options.duplicateShare;
  const CONCURRENCY = options.concurrency;
  const QUEUE_SPEED = options.queueSpeed;
  const CLIENT_TIMEOUT_MS = options.clientTimeoutMs;
  const log = options.log ?? (() => {});
  const progress = options.progress ?? (() => {});
  // Seeded, so a failing run can be replayed.
  let state = options.seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  const seed = seedWithUsers('soak', USERS);

  const transient = {
    InternalError: 0.08,
    RequestLimitExceeded: 0.06,
    http502: 0.06,
    latency: 0.05,
    drop: 0.05,
  };
  /**
   * Every UpdateUser CIAM carried out, in the order it did, late ones included (an attempt the client
   * gave up on can still land): the Nickname names the change.
   */
  const writes: { user: string; nickname: string }[] = [];
  const emulator = await startEmulator({
    port: 0,
    seed,
    onApplied: (action, params) => {
      if (action === 'UpdateUser' && typeof params.Nickname === 'string') {
        writes.push({ user: String(params.UserId), nickname: params.Nickname });
      }
    },
    rateLimit: 20,
    faults: {
      rates: options.faults ? { ...transient, InvalidParameterValue: 0.02 } : {},
      // The calls of the queue function. The webhook function's lookup (DescribeUser, made before
      // a change is queued) is left alone: a lookup that fails is answered to the sender with
      // nothing acknowledged (test/e2e/queue.e2e.test.ts), while the soak counts what becomes of
      // acknowledged changes.
      actions: ['UpdateUser', 'DescribeUserById'],
      // Longer than the client's timeout: the abandoned attempt lands after the client gave up.
      latencyMs: CLIENT_TIMEOUT_MS + 300,
      seed: options.seed,
    },
  });

  const configPath = writeQueuedConfig({ timeoutMs: CLIENT_TIMEOUT_MS });

  const started = Date.now();
  const pipeline = startLocalPipeline({
    env: {
      ADAPTER_CONFIG: configPath,
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: emulator.url,
    },
    overrides: {
      logger: new Logger({ serviceName: 'soak', logLevel: 'SILENT' }),
      recordOutcome: () => {},
    },
    queueNow: () => started + (Date.now() - started) * QUEUE_SPEED,
    // The fast queue clock must not shorten the visibility timeout below 6 × the consumer's real
    // timeout (AWS's rule, which keeps two consumers off one group): scale it back up.
    visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds * QUEUE_SPEED,
    onPollerError: () => {},
  });
  const server = await startLocalServer({ routes: [pipeline.webhookRoute] });

  interface Change extends LoadEvent {
    user: number;
    k: number;
  }
  const changes: Change[] = [];
  for (let user = 0; user < USERS; user += 1) {
    for (let k = 0; k < CHANGES_PER_USER; k += 1) {
      const event = clerkUserUpdated(
        `msg_soak_${user}_${k}`,
        externalIdOf('soak', user),
        `u${user}c${k}`,
        1_800_000_000_000 + k * 1000,
      );
      changes.push({ user, k, ...event });
    }
  }
  // Mostly in order, with inversions across a few places; then some deliveries again, later.
  const sends = changes
    .map((change) => ({ change, key: change.k + random() * 4 }))
    .sort((a, b) => a.key - b.key)
    .map(({ change }) => change);
  for (const change of changes) {
    if (random() < DUPLICATE_SHARE) sends.splice(Math.floor(random() * sends.length), 0, change);
  }

  progress('soak: sending', 0, sends.length);
  const answers = await sendAll(`${server.url}/webhooks/clerk-queued`, sends, CONCURRENCY, (n) =>
    progress('soak: sending', n, sends.length),
  );
  // Draining has no steps of its own to count: say how many writes CIAM has made meanwhile.
  const draining = options.progress
    ? setInterval(() => progress('soak: draining the queue, CIAM writes', writes.length), 250)
    : undefined;
  try {
    await pipeline.poller.drain();
  } finally {
    clearInterval(draining);
  }
  // Abandoned attempts may still be landing in CIAM; their writes count too.
  progress('soak: waiting for late CIAM writes');
  await emulator.idle();

  const deadLetters = pipeline.deadLetterQueue.peek();
  const deadEvents = new Set<string>();
  let withoutReason = 0;
  for (const letter of deadLetters) {
    const { errorCode, reason } = letter.attributes;
    if (!errorCode || !reason) withoutReason += 1;
    deadEvents.add((JSON.parse(letter.body) as { eventId: string }).eventId);
  }

  const accepted = changes.filter((c) => (answers.get(c.id) ?? []).includes(202));
  const refused = changes.filter((c) => !(answers.get(c.id) ?? []).includes(202));
  const nicknameOf = (c: Change) => `u${c.user}c${c.k}`;
  // Walk CIAM's writes in the order it made them. Writing a change older than one the user already
  // holds is a fault: `out_of_order` when it is a change not written before, `duplicates_applied_late`
  // when it is a repeat (a redelivery or an abandoned attempt landing late). Repeating the newest
  // change is harmless and not counted.
  const written = new Map<string, number>();
  let outOfOrder = 0;
  let duplicatesAppliedLate = 0;
  const newestWritten = new Map<number, number>();
  for (const write of writes) {
    const match = /^u(\d+)c(\d+)$/.exec(write.nickname);
    if (match === null) continue;
    const user = Number(match[1]);
    const k = Number(match[2]);
    const before = written.get(write.nickname) ?? 0;
    written.set(write.nickname, before + 1);
    if (k < (newestWritten.get(user) ?? -1)) {
      if (before > 0) duplicatesAppliedLate += 1;
      else outOfOrder += 1;
    }
    newestWritten.set(user, Math.max(k, newestWritten.get(user) ?? -1));
  }
  let lost = 0;
  for (const change of accepted) {
    const superseded = (newestWritten.get(change.user) ?? -1) > change.k;
    if (!written.has(nicknameOf(change)) && !deadEvents.has(change.id) && !superseded) lost += 1;
  }
  let wrongFinal = 0;
  for (let user = 0; user < USERS; user += 1) {
    // The newest change the user must hold: dead-lettered ones do not count, unless CIAM wrote
    // them anyway (a retry's read can fail for good after an abandoned write had landed).
    const newest = accepted
      .filter((c) => c.user === user && (!deadEvents.has(c.id) || written.has(nicknameOf(c))))
      .reduce<Change | undefined>((a, c) => (a === undefined || c.k > a.k ? c : a), undefined);
    const final = emulator.store.getUser('local-store', userIdOf('soak', user))?.Nickname;
    if (newest !== undefined && final !== nicknameOf(newest)) {
      wrongFinal += 1;
      if (options.debug) {
        log(
          JSON.stringify({
            user,
            final,
            expected: nicknameOf(newest),
            writes: writes.filter((w) => w.user === userIdOf('soak', user)).map((w) => w.nickname),
            dead: [...deadEvents].filter((id) => id.startsWith(`msg_soak_${user}_`)),
          }),
        );
      }
    }
  }
  if (options.debug) {
    const codes = new Map<string, number>();
    for (const letter of deadLetters) {
      const key = `${letter.attributes.errorCode}/${letter.attributes.upstreamCode ?? '-'}`;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    log(`dead letters by code ${JSON.stringify(Object.fromEntries(codes))}`);
  }
  outOfOrder += wrongFinal;

  const report: SoakReport = {
    sent: sends.length,
    accepted: accepted.length,
    refused: refused.length,
    applied: written.size,
    dlq: deadLetters.length,
    lost,
    outOfOrder,
    duplicatesAppliedLate,
    deadLettersWithoutReason: withoutReason,
    usersOnWrongFinalState: wrongFinal,
    ciamCalls: emulator.calls.length,
    faultsInjected: emulator.calls.filter((c) => c.fault !== undefined).length,
    seconds: (Date.now() - started) / 1000,
  };
  await pipeline.stop();
  await server.close();
  await emulator.close();
  return report;
};
