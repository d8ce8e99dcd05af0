import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { type ApplyDeps, type ApplyResult, type ApplyTarget, applyUpdate } from '../ciam/apply.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { failureFields, logFailure } from '../log/failures.ts';
import type { RecordOutcome } from '../metrics.ts';
import { parseEnvelope, type QueueEnvelope } from './envelope.ts';
import type { QueuePort } from './types.ts';

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

/** serverless.yml's redrive policy says the same; AWS advises at least 5. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
export const DEFAULT_SETTLE_SECONDS = 60;

export interface ConsumerDeps {
  /** Every configured connection, by id, as apply needs it (stale-event guard resolved). */
  connections: ReadonlyMap<string, ApplyTarget>;
  apply: ApplyDeps;
  /** The queue the records come from: visibility is changed here. */
  queue: QueuePort;
  deadLetterQueue: QueuePort;
  settings: QueueSettings;
  /** Epoch milliseconds. */
  now: () => number;
  /** [0, 1) for backoff jitter. */
  random: () => number;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  recordOutcome: RecordOutcome;
}

/** What became of one record that is acknowledged (deleted from the queue). */
export type ConsumeResult =
  | ApplyResult
  | { status: 'dead-lettered'; code: string; messageId: string; deadLetterMessageId: string };

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

/** A record the consumer did not acknowledge: SQS delivers it again. */
export class RecordFailedError extends Error {
  override readonly name = 'RecordFailedError';
  readonly code: string;

  constructor(message: string, error: AdapterError) {
    super(message, { cause: error });
    this.code = error.code;
  }
}

const positiveInteger = (value: string | undefined): number | undefined => {
  const number = Number(value);
  return Number.isInteger(number) && number > 0 ? number : undefined;
};

const isoTime = (epochMs: number) => new Date(epochMs).toISOString();

const asAdapterError = (error: unknown): AdapterError =>
  isAdapterError(error)
    ? error
    : new AdapterError('INTERNAL', 'Unexpected failure while applying a queued change', {
        cause: error,
      });

/** Safe text for an operator: the code, the message only when it may be shown. */
const reasonOf = (error: AdapterError): string => {
  const cause = error.cause instanceof Error ? error.cause.name : undefined;
  const text = error.expose
    ? `${error.code}: ${error.message}`
    : cause === undefined || error.code !== 'INTERNAL'
      ? error.code
      : `${error.code} (${cause})`;
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
};

const SAFE_ID = /^[\x21-\x7e]{1,256}$/;

/** The ids of a message that is not a valid envelope, when they can be read, for the DLQ. */
const idsOf = (body: string): { connectionId?: string; eventId?: string } => {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null) return {};
    const { connectionId, eventId } = value as Record<string, unknown>;
    return {
      ...(typeof connectionId === 'string' && SAFE_ID.test(connectionId) ? { connectionId } : {}),
      ...(typeof eventId === 'string' && SAFE_ID.test(eventId) ? { eventId } : {}),
    };
  } catch {
    return {};
  }
};

interface Ids {
  messageId: string;
  connectionId?: string;
  eventId?: string;
}

/**
 * One SQS record of the changes queue: apply it, or decide between retry and dead letter from the
 * error table's `retryable` alone. Resolves when the record may be deleted; throws
 * RecordFailedError when SQS must deliver it again. Never logs the body (personal data).
 */
export const consumeRecord = async (
  deps: ConsumerDeps,
  record: SQSRecord,
  options: { signal?: AbortSignal } = {},
): Promise<ConsumeResult> => {
  const receiveCount = positiveInteger(record.attributes.ApproximateReceiveCount) ?? 1;
  const ids: Ids = { messageId: record.messageId };

  const deadLetter = async (error: AdapterError): Promise<ConsumeResult> => {
    const at = deps.now();
    const firstReceive = positiveInteger(record.attributes.ApproximateFirstReceiveTimestamp);
    const fields = failureFields(error);
    const attributes: Record<string, string> = {
      errorCode: error.code,
      ...(fields.upstreamCode === undefined ? {} : { upstreamCode: fields.upstreamCode }),
      ...(fields.upstreamRequestId === undefined
        ? {}
        : { upstreamRequestId: fields.upstreamRequestId }),
      attempts: String(receiveCount),
      firstErrorAt: isoTime(firstReceive ?? at),
      lastErrorAt: isoTime(at),
      ...(ids.connectionId === undefined ? {} : { connectionId: ids.connectionId }),
      ...(ids.eventId === undefined ? {} : { eventId: ids.eventId }),
      reason: reasonOf(error),
    };
    let sent: { messageId: string };
    try {
      sent = await deps.deadLetterQueue.send({
        body: record.body,
        // The group keeps the DLQ in the source's per-user order; the source message id as
        // deduplication id is what SQS's own redrive uses, so a repeat after a lost ack is dropped.
        groupId: record.attributes.MessageGroupId ?? 'ungrouped',
        deduplicationId: record.messageId,
        attributes,
      });
    } catch (cause) {
      // Never acknowledge what was not stored: the record comes back and is tried again.
      const failure = new AdapterError('QUEUE_UNAVAILABLE', 'The dead-letter queue refused', {
        cause,
      });
      logFailure(deps.logger, 'queued change not dead-lettered', failure, {
        ...ids,
        outcome: 'retry',
        deadLetterCode: error.code,
        attempts: receiveCount,
      });
      throw new RecordFailedError('The dead-letter queue did not store the message', failure);
    }
    logFailure(deps.logger, 'queued change dead-lettered', error, {
      ...ids,
      outcome: 'dead-lettered',
      attempts: receiveCount,
      deadLetterMessageId: sent.messageId,
    });
    return {
      status: 'dead-lettered',
      code: error.code,
      messageId: record.messageId,
      deadLetterMessageId: sent.messageId,
    };
  };

  const retryLater = async (error: AdapterError): Promise<never> => {
    const backoff = backoffSeconds(receiveCount, deps.random);
    // An attempt that may still land must have landed before the change is looked at again.
    const seconds =
      error.code === 'UPSTREAM_OUTCOME_UNKNOWN'
        ? Math.max(backoff, deps.settings.settleSeconds)
        : backoff;
    try {
      await deps.queue.changeVisibility(record.receiptHandle, seconds);
    } catch (cause) {
      // The record still comes back, after the queue's own visibility timeout.
      deps.logger.warn('could not delay the retry of a queued change', {
        ...ids,
        error: cause,
      });
    }
    logFailure(deps.logger, 'queued change will be retried', error, {
      ...ids,
      outcome: 'retry',
      attempts: receiveCount,
      maxReceiveCount: deps.settings.maxReceiveCount,
      backoffSeconds: seconds,
    });
    throw new RecordFailedError('The change will be retried', error);
  };

  const fail = async (error: AdapterError): Promise<ConsumeResult> => {
    deps.recordOutcome(ids.connectionId ?? 'unknown', error.code, 1);
    // On the last allowed receive SQS would move the message itself, but without the reason.
    if (!error.retryable || receiveCount >= deps.settings.maxReceiveCount) {
      return deadLetter(error);
    }
    return retryLater(error);
  };

  let envelope: QueueEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    Object.assign(ids, idsOf(record.body));
    return fail(asAdapterError(error));
  }
  ids.connectionId = envelope.connectionId;
  ids.eventId = envelope.eventId;

  const target = deps.connections.get(envelope.connectionId);
  if (target === undefined) {
    return fail(
      new AdapterError(
        'CONNECTION_NOT_FOUND',
        `No connection ${envelope.connectionId} is configured`,
      ),
    );
  }

  let result: ApplyResult;
  try {
    if (options.signal?.aborted) {
      throw new AdapterError('DEADLINE_EXCEEDED', 'No time was left to apply the change');
    }
    result = await applyUpdate(
      deps.apply,
      target,
      {
        change: {
          eventId: envelope.eventId,
          eventType: envelope.eventType,
          occurredAt: envelope.occurredAt,
          subject: envelope.subject,
        },
        draft: envelope.draft,
      },
      options.signal === undefined ? {} : { signal: options.signal },
    );
  } catch (thrown) {
    let error = asAdapterError(thrown);
    if (options.signal?.aborted && error.retryable && error.code !== 'DEADLINE_EXCEEDED') {
      error = new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time applying the change', {
        cause: error,
      });
    }
    return fail(error);
  }

  deps.recordOutcome(envelope.connectionId, result.status, 1);
  if (
    result.status === 'applied' &&
    result.lateWritePossible === true &&
    receiveCount < deps.settings.maxReceiveCount
  ) {
    // An abandoned attempt of this write may still land, and would then overwrite the user's next
    // change. Keeping this record unacknowledged holds the user's FIFO group until it must have
    // landed; the redelivery finds its own applied mark and is acknowledged as a duplicate.
    const seconds = deps.settings.settleSeconds;
    await deps.queue.changeVisibility(record.receiptHandle, seconds).catch(() => undefined);
    deps.logger.info('queued change applied; holding the user until a late attempt has landed', {
      ...ids,
      userId: result.userId,
      outcome: 'held',
      attempts: receiveCount,
      settleSeconds: seconds,
      upstreamRequestId: result.requestId,
    });
    throw new RecordFailedError(
      'Held until an abandoned attempt has landed',
      new AdapterError('UPSTREAM_UNAVAILABLE', 'A late write may still land'),
    );
  }
  deps.logger.info(
    result.status === 'applied' ? 'queued change applied' : 'queued change ignored',
    {
      ...ids,
      userId: result.userId,
      outcome: result.status,
      attempts: receiveCount,
      ...(result.status === 'applied'
        ? { upstreamRequestId: result.requestId }
        : { reason: result.reason }),
    },
  );
  return result;
};
