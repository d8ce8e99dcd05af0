// The soak run behind `npm run soak` (and, small, a test): changes for many users from two queued
// connections, Clerk snapshots and partial hmac changes, with interleaved event times, sent
// concurrently, partly out of order and partly twice, through the webhook function → embedded SQS
// FIFO queue → queue function → CIAM emulator, with 30 % transient and 2 % permanent faults
// injected into CIAM. Field by field, it counts what was lost, what CIAM wrote out of order, and
// dead letters without a reason, from what CIAM really wrote (late writes of abandoned attempts
// included).
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { startEmulator } from '../emulator/server.ts';
import { connectionTag, eventTag } from '../lib/ciam/field-clocks.ts';
import { startLocalServer } from './http-api.ts';
import {
  clerkUserUpdated,
  externalIdOf,
  HMAC_QUEUED,
  hmacPartialUpdate,
  hmacQueuedSender,
  type LoadEvent,
  seedWithUsers,
  sendAll,
  userIdOf,
  writeQueuedConfig,
} from './load.ts';
import { LOCAL_QUEUE_DEFAULTS, startLocalPipeline } from './pipeline.ts';

export interface SoakOptions {
  users: number;
  /** Clerk user.updated snapshots per user (`clerk-queued`): each carries every judged field. */
  snapshotsPerUser: number;
  /** Partial changes per user from the queued hmac connection: one or two fields each. */
  partialsPerUser: number;
  /** Share of changes delivered a second time, soon after (SQS's deduplication drops most). */
  duplicateShare: number;
  /**
   * Share of changes delivered again once SQS's deduplication window has passed, after the queue
   * drained: only the field clocks can tell them from new changes.
   */
  lateRedeliveryShare: number;
  /** Share of a user's changes dated the same millisecond as the one before: ties. */
  tieShare: number;
  concurrency: number;
  /** The queues' clock runs this much faster, so 30 s backoffs take 1.5 s; CIAM's clock is real. */
  queueSpeed: number;
  /** The Tencent client's per-attempt timeout; injected latencies exceed it by 300 ms. */
  clientTimeoutMs: number;
  /** Seeds the changes, send order, duplicates and CIAM's faults, so a run can be replayed. */
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
  /** Of `sent`: the redeliveries sent after the deduplication window. */
  redeliveredLate: number;
  accepted: number;
  refused: number;
  /** Changes CIAM wrote (some of their fields at least). */
  applied: number;
  dlq: number;
  /** Fields judged: each user's fields that some change carried. */
  fields: number;
  /** A field of a change written by CIAM, counted once however often it was written. */
  fieldsApplied: number;
  /** The consumer's answers: some fields written, some skipped. */
  partial: number;
  /** The consumer's answers: nothing written, every field held a newer change. */
  stale: number;
  /** The consumer's answers: carried by a write in which later changes overtook all its fields. */
  superseded: number;
  /** UpdateUser requests the consumer made that went through (by request id). */
  writes: number;
  /** Of `writes`: those that carried more than one change. */
  coalescedWrites: number;
  /** The consumer's answers: nothing written, the change had been applied already. */
  duplicate: number;
  /** Fields whose newest change CIAM never wrote. */
  lost: number;
  /** Fields written with an older change after a newer one, or ending with an older change's value. */
  outOfOrder: number;
  /** Fields a change wrote again after a newer change had been written. */
  duplicatesAppliedLate: number;
  deadLettersWithoutReason: number;
  usersOnWrongFinalState: number;
  fieldsOnWrongFinalState: number;
  ciamCalls: number;
  faultsInjected: number;
  seconds: number;
}

export const SOAK_DEFAULTS: SoakOptions = {
  users: 100,
  snapshotsPerUser: 5,
  partialsPerUser: 5,
  duplicateShare: 0.1,
  lateRedeliveryShare: 0.1,
  tieShare: 0.2,
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

/** The fields the soak's changes set, and judges one by one. */
const FIELDS = ['Nickname', 'Email', 'PhoneNumber'] as const;
type Field = (typeof FIELDS)[number];

const CLERK_QUEUED = 'clerk-queued';
/** SQS drops a message whose deduplication id it saw this recently (local/fifo-queue.ts too). */
const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

/**
 * Counts the consumer's answers from what it logs for each change it acknowledges (`applied`,
 * `partial`, or the reason it was ignored), and prints nothing.
 */
class AnswerCounter extends Logger {
  readonly counts = new Map<string, number>();
  /** The changes each UpdateUser carried, by its request id: more than one is a coalesced write. */
  readonly writes = new Map<string, Set<string>>();

  constructor() {
    super({ serviceName: 'soak', logLevel: 'SILENT' });
  }

  override info(input: LogItemMessage, ...extraInput: LogItemExtraInput): void {
    const attributes = extraInput[0];
    if (typeof attributes !== 'object' || attributes instanceof Error) return;
    const { upstreamRequestId, messageId } = attributes;
    if (typeof upstreamRequestId === 'string' && typeof messageId === 'string') {
      const carried = this.writes.get(upstreamRequestId) ?? new Set<string>();
      carried.add(messageId);
      this.writes.set(upstreamRequestId, carried);
    }
    if (
      input !== 'queued change applied' &&
      input !== 'queued change ignored' &&
      input !== 'queued change superseded within its write'
    ) {
      return;
    }
    const answer = attributes.reason ?? attributes.outcome;
    if (typeof answer === 'string') this.counts.set(answer, (this.counts.get(answer) ?? 0) + 1);
  }
}

interface Change extends LoadEvent {
  user: number;
  /** Its place among the user's changes, both connections together: labels its values. */
  n: number;
  connection: string;
  /** Event time, epoch milliseconds. */
  at: number;
  /** The fields it carries, as CIAM stores them. */
  values: Partial<Record<Field, string>>;
  /** connectionTag and eventTag, which order changes of one event time. */
  tags: [string, string];
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The order the field clocks keep (docs/delivery.md, "Field clocks"): event time, then the
 * connection's tag, then the event's. No authority is configured, so it does not come into it.
 */
const compareChanges = (a: Change, b: Change): number =>
  a.at - b.at || compareStrings(a.tags[0], b.tags[0]) || compareStrings(a.tags[1], b.tags[1]);

export const runSoak = async (options: SoakOptions): Promise<SoakReport> => {
  const USERS = options.users;
  const PER_USER = options.snapshotsPerUser + options.partialsPerUser;
  const CONCURRENCY = options.concurrency;
  const QUEUE_SPEED = options.queueSpeed;
  const CLIENT_TIMEOUT_MS = options.clientTimeoutMs;
  const log = options.log ?? (() => {});
  const progress = options.progress ?? (() => {});
  // Phone numbers are +659 and 7 digits, one per change (unique, as CIAM requires).
  if (USERS * PER_USER > 10_000_000) throw new Error('At most 10,000,000 changes in a soak');
  // Seeded, so a failing run can be replayed.
  let state = options.seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
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
   * gave up on can still land), with the judged fields it set.
   */
  const writes: { user: string; values: Partial<Record<Field, string>> }[] = [];
  const emulator = await startEmulator({
    port: 0,
    seed,
    onApplied: (action, params) => {
      if (action !== 'UpdateUser') return;
      const values: Partial<Record<Field, string>> = {};
      for (const field of FIELDS) {
        const value = params[field];
        if (typeof value === 'string') values[field] = value;
      }
      writes.push({ user: String(params.UserId), values });
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

  const configPath = writeQueuedConfig({ timeoutMs: CLIENT_TIMEOUT_MS }, { hmac: true });

  const started = Date.now();
  // Moved on once, so that redeliveries after the first drain fall outside SQS's deduplication.
  let queueClockAhead = 0;
  const answerCounter = new AnswerCounter();
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
    consumer: { logger: answerCounter },
    queueNow: () => started + (Date.now() - started) * QUEUE_SPEED + queueClockAhead,
    // The fast queue clock must not shorten the visibility timeout below 6 × the consumer's real
    // timeout (AWS's rule, which keeps two consumers off one group): scale it back up.
    visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds * QUEUE_SPEED,
    onPollerError: () => {},
  });
  const server = await startLocalServer({ routes: [pipeline.webhookRoute] });
  const clerkUrl = `${server.url}/webhooks/${CLERK_QUEUED}`;
  const hmacSender = hmacQueuedSender(`${server.url}/webhooks/${HMAC_QUEUED}`);

  // Each user's changes: snapshots and partial changes shuffled together, a second apart in event
  // time or, for `tieShare` of them, the same millisecond as the one before.
  const changes: Change[] = [];
  for (let user = 0; user < USERS; user += 1) {
    const externalId = externalIdOf('soak', user);
    const kinds = shuffle([
      ...Array.from({ length: options.snapshotsPerUser }, () => 'snapshot' as const),
      ...Array.from({ length: options.partialsPerUser }, () => 'partial' as const),
    ]);
    let at = 1_800_000_000_000;
    for (const [n, kind] of kinds.entries()) {
      if (n > 0 && random() >= options.tieShare) at += 1000;
      const label = `u${user}n${n}`;
      const all: Record<Field, string> = {
        Nickname: label,
        Email: `${label}@soak.example.org`,
        PhoneNumber: `+659${String(user * PER_USER + n).padStart(7, '0')}`,
      };
      if (kind === 'snapshot') {
        const id = `msg_soak_${user}_${n}`;
        const event = clerkUserUpdated(id, externalId, all.Nickname, at, {
          email: all.Email,
          phone: all.PhoneNumber,
        });
        changes.push({
          ...event,
          user,
          n,
          connection: CLERK_QUEUED,
          at,
          values: all,
          tags: [connectionTag(CLERK_QUEUED), eventTag(id)],
        });
      } else {
        const carried = shuffle([...FIELDS]).slice(0, random() < 0.5 ? 1 : 2);
        const values: Partial<Record<Field, string>> = {};
        for (const field of carried) values[field] = all[field];
        const id = `hmac_soak_${user}_${n}`;
        const event = hmacPartialUpdate(
          id,
          externalId,
          {
            ...(values.Nickname === undefined ? {} : { name: values.Nickname }),
            ...(values.Email === undefined ? {} : { email: values.Email }),
            ...(values.PhoneNumber === undefined ? {} : { phone: values.PhoneNumber }),
          },
          at,
          hmacSender,
        );
        changes.push({
          ...event,
          user,
          n,
          connection: HMAC_QUEUED,
          at,
          values,
          tags: [connectionTag(HMAC_QUEUED), eventTag(id)],
        });
      }
    }
  }
  // Mostly in order, with inversions across a few places (and across connections); then some
  // deliveries again, later.
  const sends = changes
    .map((change) => ({ change, key: change.n + random() * 4 }))
    .sort((a, b) => a.key - b.key)
    .map(({ change }) => change);
  for (const change of changes) {
    if (random() < options.duplicateShare) {
      sends.splice(Math.floor(random() * sends.length), 0, change);
    }
  }
  const lateSends = shuffle(changes.filter(() => random() < options.lateRedeliveryShare));

  const drain = async () => {
    // Draining has no steps of its own to count: say how many writes CIAM has made meanwhile.
    const draining = options.progress
      ? setInterval(() => progress('soak: draining the queue, CIAM writes', writes.length), 250)
      : undefined;
    try {
      await pipeline.poller.drain();
    } finally {
      clearInterval(draining);
    }
  };

  progress('soak: sending', 0, sends.length);
  const answers = await sendAll(clerkUrl, sends, CONCURRENCY, (n) =>
    progress('soak: sending', n, sends.length),
  );
  await drain();
  const firstLetters = new Set(pipeline.deadLetterQueue.peek().map((letter) => letter.messageId));

  // A sender delivering again what it may not know arrived, once SQS has forgotten it: the queue's
  // clock moves on by the deduplication window, so each is a message of its own.
  queueClockAhead = DEDUPLICATION_WINDOW_MS + 1000;
  progress('soak: redelivering late', 0, lateSends.length);
  const lateAnswers = await sendAll(clerkUrl, lateSends, CONCURRENCY, (n) =>
    progress('soak: redelivering late', n, lateSends.length),
  );
  for (const [id, statuses] of lateAnswers) {
    answers.set(id, [...(answers.get(id) ?? []), ...statuses]);
  }
  await drain();
  // Abandoned attempts may still be landing in CIAM; their writes count too.
  progress('soak: waiting for late CIAM writes');
  await emulator.idle();

  const keyOf = (connection: string, eventId: string) => `${connection}\u0000${eventId}`;
  const deadLetters = pipeline.deadLetterQueue.peek();
  // A change is given up when the delivery SQS last handed on for it was dead-lettered: a late
  // redelivery is a message of its own, which may still apply a change dead-lettered before.
  const redeliveredLate = new Set(lateSends.map((c) => keyOf(c.connection, c.id)));
  const deadEvents = new Set<string>();
  let withoutReason = 0;
  for (const letter of deadLetters) {
    const { errorCode, reason } = letter.attributes;
    if (!errorCode || !reason) withoutReason += 1;
    const body = JSON.parse(letter.body) as { connectionId: string; eventId: string };
    const key = keyOf(body.connectionId, body.eventId);
    if (redeliveredLate.has(key) && firstLetters.has(letter.messageId)) continue;
    deadEvents.add(key);
  }
  const isDead = (c: Change) => deadEvents.has(keyOf(c.connection, c.id));

  const accepted = changes.filter((c) => (answers.get(c.id) ?? []).includes(202));
  const refused = changes.filter((c) => !(answers.get(c.id) ?? []).includes(202));

  // Which change each written value came from: every value the soak sends is its change's own.
  const sourceOf = new Map<string, Change>();
  for (const change of changes) {
    for (const field of FIELDS) {
      const value = change.values[field];
      if (value !== undefined) sourceOf.set(`${field}\u0000${value}`, change);
    }
  }
  // Walk CIAM's writes in the order it made them, field by field. Writing a field with a change
  // older than one the field already held is a fault: `out_of_order` when that change had not
  // written the field before, `duplicates_applied_late` when it had (a redelivery, or an abandoned
  // attempt landing late). Writing the newest change again is harmless and not counted.
  const writtenChanges = new Set<Change>();
  const fieldWrites = new Map<string, number>();
  const newestWritten = new Map<string, Change>();
  const fieldKey = (c: Change, field: Field) => `${keyOf(c.connection, c.id)}\u0000${field}`;
  const slotOf = (user: number, field: Field) => `${user}\u0000${field}`;
  let outOfOrder = 0;
  let duplicatesAppliedLate = 0;
  for (const write of writes) {
    for (const field of FIELDS) {
      const value = write.values[field];
      const change = value === undefined ? undefined : sourceOf.get(`${field}\u0000${value}`);
      if (change === undefined) continue;
      writtenChanges.add(change);
      const before = fieldWrites.get(fieldKey(change, field)) ?? 0;
      fieldWrites.set(fieldKey(change, field), before + 1);
      const slot = slotOf(change.user, field);
      const newest = newestWritten.get(slot);
      if (newest !== undefined && compareChanges(change, newest) < 0) {
        if (before > 0) duplicatesAppliedLate += 1;
        else outOfOrder += 1;
        if (options.debug) {
          log(
            JSON.stringify({
              user: change.user,
              field,
              wrote: `${change.connection}/${change.id}`,
              over: `${newest.connection}/${newest.id}`,
              again: before > 0,
            }),
          );
        }
      }
      if (newest === undefined || compareChanges(change, newest) > 0) {
        newestWritten.set(slot, change);
      }
    }
  }

  // Each user's field must hold the newest change that carried it. Dead-lettered changes do not
  // count, unless CIAM wrote them anyway (a retry's read can fail for good after an abandoned write
  // had landed).
  let fields = 0;
  let lost = 0;
  let wrongFields = 0;
  const wrongUsers = new Set<number>();
  const byUser = new Map<number, Change[]>();
  for (const change of accepted) {
    if (isDead(change) && !writtenChanges.has(change)) continue;
    byUser.set(change.user, [...(byUser.get(change.user) ?? []), change]);
  }
  for (let user = 0; user < USERS; user += 1) {
    const stored = emulator.store.getUser('local-store', userIdOf('soak', user));
    for (const field of FIELDS) {
      const newest = (byUser.get(user) ?? [])
        .filter((c) => c.values[field] !== undefined)
        .reduce<Change | undefined>(
          (a, c) => (a === undefined || compareChanges(c, a) > 0 ? c : a),
          undefined,
        );
      if (newest === undefined) continue;
      fields += 1;
      if (!fieldWrites.has(fieldKey(newest, field))) lost += 1;
      const final = stored?.[field];
      if (final === newest.values[field]) continue;
      wrongFields += 1;
      wrongUsers.add(user);
      if (options.debug) {
        log(
          JSON.stringify({
            user,
            field,
            final,
            expected: newest.values[field],
            writes: writes
              .filter((w) => w.user === userIdOf('soak', user) && w.values[field] !== undefined)
              .map((w) => w.values[field]),
            dead: changes
              .filter((c) => c.user === user && isDead(c))
              .map((c) => `${c.connection}/${c.id}`),
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
    log(`answers ${JSON.stringify(Object.fromEntries(answerCounter.counts))}`);
  }
  outOfOrder += wrongFields;

  const report: SoakReport = {
    sent: sends.length + lateSends.length,
    redeliveredLate: lateSends.length,
    accepted: accepted.length,
    refused: refused.length,
    applied: writtenChanges.size,
    dlq: deadLetters.length,
    fields,
    fieldsApplied: fieldWrites.size,
    partial: answerCounter.counts.get('partial') ?? 0,
    stale: answerCounter.counts.get('stale') ?? 0,
    duplicate: answerCounter.counts.get('duplicate') ?? 0,
    superseded: answerCounter.counts.get('superseded') ?? 0,
    writes: answerCounter.writes.size,
    coalescedWrites: [...answerCounter.writes.values()].filter((carried) => carried.size > 1)
      .length,
    lost,
    outOfOrder,
    duplicatesAppliedLate,
    deadLettersWithoutReason: withoutReason,
    usersOnWrongFinalState: wrongUsers.size,
    fieldsOnWrongFinalState: wrongFields,
    ciamCalls: emulator.calls.length,
    faultsInjected: emulator.calls.filter((c) => c.fault !== undefined).length,
    seconds: (Date.now() - started) / 1000,
  };
  await pipeline.stop();
  await server.close();
  await emulator.close();
  return report;
};
