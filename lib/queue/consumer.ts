import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import {
  type AppliedUpdate,
  type ApplyDeps,
  type ApplyResult,
  type ApplyTarget,
  applyUpdate,
} from '../ciam/apply.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { failureFields, logFailure } from '../log/failures.ts';
import type { RecordOutcome } from '../metrics.ts';
import { type AttemptOutcome, decideRecord, type QueueSettings } from './decide.ts';
import { parseEnvelope, type QueueEnvelope } from './envelope.ts';
import { envelopeResolver } from './envelope-resolver.ts';
import type { QueuePort } from './types.ts';

export { backoffSeconds, type QueueSettings } from './decide.ts';

/** serverless.yml's redrive policy says the same; AWS advises at least 5. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
export const DEFAULT_SETTLE_SECONDS = 60;

export interface ConsumerDeps {
  /** Every configured connection, by id, as apply needs it (stale-event guard resolved). */
  connections: ReadonlyMap<string, ApplyTarget>;
  /**
   * `resolver` looks up only what an envelope does not name: the user of a message queued before
   * the producer resolved users, or one CIAM says no longer exists.
   */
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

const failed = (error: AdapterError): AttemptOutcome => ({ ok: false, error });

/**
 * Reads the record and applies its change. Fills `ids` with what could be read, for logs and the
 * DLQ; never throws, a failure is part of the outcome.
 */
const attemptRecord = async (
  deps: ConsumerDeps,
  record: SQSRecord,
  ids: Ids,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome> => {
  let envelope: QueueEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    Object.assign(ids, idsOf(record.body));
    return failed(asAdapterError(error));
  }
  ids.connectionId = envelope.connectionId;
  ids.eventId = envelope.eventId;

  const target = deps.connections.get(envelope.connectionId);
  if (target === undefined) {
    return failed(
      new AdapterError(
        'CONNECTION_NOT_FOUND',
        `No connection ${envelope.connectionId} is configured`,
      ),
    );
  }

  try {
    if (signal?.aborted) {
      throw new AdapterError('DEADLINE_EXCEEDED', 'No time was left to apply the change');
    }
    const result = await applyUpdate(
      { ...deps.apply, resolver: envelopeResolver(deps.apply.resolver, envelope.userId) },
      target,
      {
        change: {
          eventId: envelope.eventId,
          eventType: envelope.eventType,
          occurredAt: envelope.occurredAt,
          subject: envelope.subject,
        },
        draft: envelope.draft,
        ...(envelope.memberships === undefined ? {} : { memberships: envelope.memberships }),
      },
      signal === undefined ? {} : { signal },
    );
    return { ok: true, result };
  } catch (thrown) {
    const error = asAdapterError(thrown);
    // Out of time: said as such, except where a write may still land, whose retry must wait out
    // the settle time like any other unknown outcome.
    if (
      signal?.aborted &&
      error.retryable &&
      error.code !== 'DEADLINE_EXCEEDED' &&
      error.code !== 'UPSTREAM_OUTCOME_UNKNOWN'
    ) {
      return failed(
        new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time applying the change', {
          cause: error,
        }),
      );
    }
    return failed(error);
  }
};

/** One receive of one record, as the steps that carry out a decision see it. */
interface Delivery {
  deps: ConsumerDeps;
  record: SQSRecord;
  ids: Ids;
  receiveCount: number;
}

const acknowledge = ({ deps, ids, receiveCount }: Delivery, result: ApplyResult): ApplyResult => {
  deps.logger.info(
    result.status === 'ignored' ? 'queued change ignored' : 'queued change applied',
    {
      ...ids,
      userId: result.userId,
      outcome: result.status,
      attempts: receiveCount,
      // Field names only, never their values.
      ...(result.status === 'ignored'
        ? { reason: result.reason, skipped: result.skipped }
        : { upstreamRequestId: result.requestId, fields: result.fields, skipped: result.skipped }),
    },
  );
  return result;
};

const hold = async (
  { deps, record, ids, receiveCount }: Delivery,
  result: AppliedUpdate,
  seconds: number,
): Promise<never> => {
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
};

const retryLater = async (
  { deps, record, ids, receiveCount }: Delivery,
  error: AdapterError,
  seconds: number,
): Promise<never> => {
  try {
    await deps.queue.changeVisibility(record.receiptHandle, seconds);
  } catch (cause) {
    // The record still comes back, after the queue's own visibility timeout.
    deps.logger.warn('could not delay the retry of a queued change', { ...ids, error: cause });
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

const deadLetter = async (
  { deps, record, ids, receiveCount }: Delivery,
  error: AdapterError,
  reason: string,
): Promise<ConsumeResult> => {
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
    reason,
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

/**
 * One SQS record of the changes queue: apply it, let {@link decideRecord} choose between ack,
 * hold, retry and dead letter, and carry that out. Resolves when the record may be deleted; throws
 * RecordFailedError when SQS must deliver it again. Never logs the body (personal data).
 */
export const consumeRecord = async (
  deps: ConsumerDeps,
  record: SQSRecord,
  options: { signal?: AbortSignal } = {},
): Promise<ConsumeResult> => {
  const receiveCount = positiveInteger(record.attributes.ApproximateReceiveCount) ?? 1;
  const delivery: Delivery = { deps, record, ids: { messageId: record.messageId }, receiveCount };
  const outcome = await attemptRecord(deps, record, delivery.ids, options.signal);
  deps.recordOutcome(
    delivery.ids.connectionId ?? 'unknown',
    // Skipped changes by their reason (stale, duplicate, not_authoritative).
    outcome.ok
      ? outcome.result.status === 'ignored'
        ? outcome.result.reason
        : outcome.result.status
      : outcome.error.code,
    1,
  );
  const decision = decideRecord({
    outcome,
    receiveCount,
    settings: deps.settings,
    random: deps.random,
  });
  if (outcome.ok) {
    const { result } = outcome;
    if (decision.kind === 'hold' && result.status !== 'ignored') {
      return hold(delivery, result, decision.delaySeconds);
    }
    return acknowledge(delivery, result);
  }
  if (decision.kind === 'retry') return retryLater(delivery, outcome.error, decision.delaySeconds);
  return deadLetter(delivery, outcome.error, decision.reason);
};
