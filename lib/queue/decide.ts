import type { BatchApplyResult } from '../ciam/apply.ts';
import type { AdapterError } from '../errors.ts';

/** How the consumer's queue is set up; must match the redrive policy in serverless.yml. */
export interface QueueSettings {
  /** Receives before SQS moves a message to the DLQ; the consumer dead-letters on this one. */
  maxReceiveCount: number;
  /**
   * How long a user's group is held after a write whose earlier attempt may still land (it timed
   * out or lost its connection): longer than CIAM can take to finish a request we gave up on.
   */
  settleSeconds: number;
}

/** What one receive of a record came to: applied or ignored, or the error that stopped it. */
export type AttemptOutcome =
  | { ok: true; result: BatchApplyResult }
  | { ok: false; error: AdapterError };

export interface DecisionInput {
  outcome: AttemptOutcome;
  /** SQS's ApproximateReceiveCount for this delivery: 1 on the first. */
  receiveCount: number;
  settings: QueueSettings;
  /** [0, 1) for backoff jitter; drawn once, and only when the decision is a retry. */
  random: () => number;
}

/**
 * What the consumer does with a record. `ack` and `dead-letter` let SQS delete it; `retry` and
 * `hold` leave it unacknowledged and hidden for `delaySeconds`, so SQS delivers it again and the
 * user's FIFO group waits behind it.
 */
export type RecordDecision =
  | { kind: 'ack'; reason: string }
  | { kind: 'hold'; delaySeconds: number; reason: string }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  | { kind: 'dead-letter'; reason: string };

const BACKOFF_BASE_SECONDS = 30;
const BACKOFF_CAP_SECONDS = 15 * 60;
/** SQS's largest visibility timeout (12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;
/** Up to this share of the delay is taken off at random, so failed groups do not return in step. */
const JITTER_SHARE = 0.2;
const MAX_REASON_LENGTH = 256;

/**
 * Seconds a failed message stays hidden before its next receive: 30 s × 2^(n−1) for the n-th
 * receive, capped at 15 minutes (and SQS's 12-hour maximum), less up to 20 % jitter.
 */
export const backoffSeconds = (receiveCount: number, random: () => number = Math.random) => {
  const n = Number.isFinite(receiveCount) ? Math.max(1, Math.floor(receiveCount)) : 1;
  const base = Math.min(
    BACKOFF_CAP_SECONDS,
    MAX_VISIBILITY_SECONDS,
    BACKOFF_BASE_SECONDS * 2 ** Math.min(n - 1, 30),
  );
  const jitter = Math.min(Math.max(random(), 0), 1) * JITTER_SHARE;
  return Math.max(1, Math.ceil(base * (1 - jitter)));
};

/** Safe text for an operator: the code, the message only when it may be shown. */
export const reasonOf = (error: AdapterError): string => {
  const cause = error.cause instanceof Error ? error.cause.name : undefined;
  const text = error.expose
    ? `${error.code}: ${error.message}`
    : cause === undefined || error.code !== 'INTERNAL'
      ? error.code
      : `${error.code} (${cause})`;
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
};

const LATE_WRITE_REASON = 'applied; an abandoned attempt of the write may still land';

/**
 * The ack / retry / dead-letter / hold rule of the queue consumer, with no I/O: retry or dead
 * letter follow the error table's `retryable` alone, and the receive count bounds both retries
 * and holds.
 */
export const decideRecord = ({
  outcome,
  receiveCount,
  settings,
  random,
}: DecisionInput): RecordDecision => {
  // Nothing is left unacknowledged past the last allowed receive: SQS would then move the
  // message itself, without the reason.
  const receivesLeft = receiveCount < settings.maxReceiveCount;
  if (outcome.ok) {
    const { result } = outcome;
    if (result.status !== 'ignored' && result.lateWritePossible === true && receivesLeft) {
      // An abandoned attempt may land later and overwrite the user's next change; blocking the
      // group until it must have landed keeps that change behind it. The redelivery finds its own
      // event on the fields' clocks (stale-event guard) and is acknowledged as a duplicate.
      return { kind: 'hold', delaySeconds: settings.settleSeconds, reason: LATE_WRITE_REASON };
    }
    return { kind: 'ack', reason: result.status === 'ignored' ? result.reason : result.status };
  }
  const { error } = outcome;
  const reason = reasonOf(error);
  if (!error.retryable || !receivesLeft) return { kind: 'dead-letter', reason };
  const backoff = backoffSeconds(receiveCount, random);
  // An attempt that may still land must have landed before the change is looked at again.
  const delaySeconds =
    error.code === 'UPSTREAM_OUTCOME_UNKNOWN' ? Math.max(backoff, settings.settleSeconds) : backoff;
  return { kind: 'retry', delaySeconds, reason };
};
