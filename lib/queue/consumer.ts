import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import {
  type ApplyDeps,
  applyUpdate,
  applyUpdates,
  type BatchApplyResult,
  type PlannedUpdate,
} from '../ciam/apply.ts';
import type { TenantApplyTarget } from '../delivery/delivery.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { failureFields, logFailure } from '../log/failures.ts';
import type { RecordOutcome } from '../metrics.ts';
import { type AttemptOutcome, decideRecord, type QueueSettings, reasonOf } from './decide.ts';
import { parseEnvelope, type QueueEnvelope } from './envelope.ts';
import { envelopeResolver } from './envelope-resolver.ts';
import type { QueuePort } from './types.ts';

export { backoffSeconds, type QueueSettings } from './decide.ts';

/** serverless.yml's redrive policy says the same; AWS advises at least 5. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;
export const DEFAULT_SETTLE_SECONDS = 60;

export interface ConsumerDeps {
  /** Every configured connection, by id, as apply needs it (stale-event guard resolved). */
  connections: ReadonlyMap<string, TenantApplyTarget>;
  /**
   * `resolver` looks up only what an envelope does not name: the user of a message queued before
   * the producer resolved users, or one CIAM says no longer exists. With several tenants, a
   * function giving each connection its tenant's client and lookups.
   */
  apply: ApplyDeps | ((connection: TenantApplyTarget) => ApplyDeps);
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
  | BatchApplyResult
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
export const idsOf = (body: string): { connectionId?: string; eventId?: string } => {
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

/** A record read into its change and connection, or the failure that stopped that. */
type Prepared =
  | { ok: true; envelope: QueueEnvelope; target: TenantApplyTarget }
  | { ok: false; outcome: AttemptOutcome };

/** Reads the record's envelope and finds its connection; fills `ids` with what could be read. */
const prepareRecord = (deps: ConsumerDeps, record: SQSRecord, ids: Ids): Prepared => {
  let envelope: QueueEnvelope;
  try {
    envelope = parseEnvelope(record.body);
  } catch (error) {
    Object.assign(ids, idsOf(record.body));
    return { ok: false, outcome: failed(asAdapterError(error)) };
  }
  ids.connectionId = envelope.connectionId;
  ids.eventId = envelope.eventId;
  const target = deps.connections.get(envelope.connectionId);
  if (target === undefined) {
    return {
      ok: false,
      outcome: failed(
        new AdapterError(
          'CONNECTION_NOT_FOUND',
          `No connection ${envelope.connectionId} is configured`,
        ),
      ),
    };
  }
  return { ok: true, envelope, target };
};

const plannedOf = (envelope: QueueEnvelope): PlannedUpdate => ({
  change: {
    eventId: envelope.eventId,
    eventType: envelope.eventType,
    occurredAt: envelope.occurredAt,
    subject: envelope.subject,
  },
  draft: envelope.draft,
  ...(envelope.memberships === undefined ? {} : { memberships: envelope.memberships }),
});

/** A failure while applying, as the decision sees it. */
const applyFailure = (thrown: unknown, signal: AbortSignal | undefined): AdapterError => {
  const error = asAdapterError(thrown);
  // Out of time: said as such, except where a write may still land, whose retry must wait out
  // the settle time like any other unknown outcome.
  if (
    signal?.aborted &&
    error.retryable &&
    error.code !== 'DEADLINE_EXCEEDED' &&
    error.code !== 'UPSTREAM_OUTCOME_UNKNOWN'
  ) {
    return new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time applying the change', {
      cause: error,
    });
  }
  return error;
};

const noTimeLeft = () =>
  new AdapterError('DEADLINE_EXCEEDED', 'No time was left to apply the change');

/**
 * Applies prepared changes of one connection and one user: a single one as applyUpdate always
 * did, several as one coalesced write (applyUpdates). One outcome per change, in order; when the
 * read or the write fails, every change of it fails with that error.
 */
const applyRun = async (
  deps: ConsumerDeps,
  run: ReadonlyArray<{ envelope: QueueEnvelope; target: TenantApplyTarget }>,
  signal: AbortSignal | undefined,
): Promise<AttemptOutcome[]> => {
  const head = run[0];
  if (head === undefined) return [];
  const base = typeof deps.apply === 'function' ? deps.apply(head.target) : deps.apply;
  const apply = { ...base, resolver: envelopeResolver(base.resolver, head.envelope.userId) };
  const options = signal === undefined ? {} : { signal };
  try {
    if (signal?.aborted) throw noTimeLeft();
    if (run.length === 1) {
      return [
        {
          ok: true,
          result: await applyUpdate(apply, head.target, plannedOf(head.envelope), options),
        },
      ];
    }
    const results = await applyUpdates(
      apply,
      head.target,
      run.map(({ envelope }) => plannedOf(envelope)),
      options,
    );
    return results.map((result) => ({ ok: true, result }));
  } catch (thrown) {
    const error = applyFailure(thrown, signal);
    return run.map(() => failed(error));
  }
};

/** One receive of one record, as the steps that carry out a decision see it. */
interface Delivery {
  deps: ConsumerDeps;
  record: SQSRecord;
  ids: Ids;
  receiveCount: number;
}

const acknowledge = (
  { deps, ids, receiveCount }: Delivery,
  result: BatchApplyResult,
): BatchApplyResult => {
  const common = { ...ids, userId: result.userId, outcome: result.status, attempts: receiveCount };
  // Field names only, never their values.
  if (result.status === 'ignored') {
    deps.logger.info('queued change ignored', {
      ...common,
      reason: result.reason,
      skipped: result.skipped,
    });
  } else if (result.status === 'superseded') {
    deps.logger.info('queued change superseded within its write', {
      ...common,
      upstreamRequestId: result.requestId,
      superseded: result.superseded,
    });
  } else {
    deps.logger.info('queued change applied', {
      ...common,
      upstreamRequestId: result.requestId,
      fields: result.fields,
      skipped: result.skipped,
      ...(result.superseded === undefined ? {} : { superseded: result.superseded }),
    });
  }
  return result;
};

const hold = async (
  { deps, record, ids, receiveCount }: Delivery,
  result: Exclude<BatchApplyResult, { status: 'ignored' }>,
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
  attempted = true,
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
    // Said only of a change that was never tried: its own data may be fine.
    ...(attempted ? {} : { attempted: 'false' }),
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
    ...(attempted ? {} : { attempted: false }),
  });
  return {
    status: 'dead-lettered',
    code: error.code,
    messageId: record.messageId,
    deadLetterMessageId: sent.messageId,
  };
};

/** Lets {@link decideRecord} choose between ack, hold, retry and dead letter, and carries it out. */
const settle = async (delivery: Delivery, outcome: AttemptOutcome): Promise<ConsumeResult> => {
  const { deps, receiveCount } = delivery;
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

const deliveryOf = (deps: ConsumerDeps, record: SQSRecord): Delivery => ({
  deps,
  record,
  ids: { messageId: record.messageId },
  receiveCount: positiveInteger(record.attributes.ApproximateReceiveCount) ?? 1,
});

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
  const delivery = deliveryOf(deps, record);
  const prepared = prepareRecord(deps, record, delivery.ids);
  const [outcome] = prepared.ok
    ? await applyRun(deps, [prepared], options.signal)
    : [prepared.outcome];
  return settle(delivery, outcome ?? failed(new AdapterError('INTERNAL', 'No outcome')));
};

/** What became of one record of a message group. */
export type GroupRecordReport =
  | { messageId: string; acknowledged: true; result: ConsumeResult }
  | {
      messageId: string;
      acknowledged: false;
      error: RecordFailedError;
      /** Failed only because an earlier record of its group did: make it visible again. */
      release: boolean;
    };

/** SQS FIFO delivers at most 10 records a batch: the most one write can carry. */
export const MAX_COALESCED = 10;

const SKIPPED_REASON = 'skipped behind a failing record of its group; never attempted';

/**
 * The records of ONE message group of a batch, in their order. Consecutive changes of one
 * connection to one user are applied together: one read and one UpdateUser (applyUpdates), each
 * record then acknowledged, held, retried or dead-lettered on its own outcome. The first record
 * that is not acknowledged stops the group: every record after it fails too (so none overtakes
 * it), to be released at once, except those of the same write that must be held with it. A record
 * behind a failure on its last allowed receive is dead-lettered here, marked as never attempted,
 * rather than moved by SQS without a reason. Never throws.
 */
export const consumeGroup = async (
  deps: ConsumerDeps,
  records: readonly SQSRecord[],
  options: { signal?: AbortSignal } = {},
): Promise<GroupRecordReport[]> => {
  const reports: GroupRecordReport[] = [];
  const items = records.map((record) => {
    const delivery = deliveryOf(deps, record);
    return { record, delivery, prepared: prepareRecord(deps, record, delivery.ids) };
  });
  let blocking: RecordFailedError | undefined;

  const behind = async (item: (typeof items)[number], attempted: boolean) => {
    const error = blocking as RecordFailedError;
    const cause =
      error.cause instanceof AdapterError
        ? error.cause
        : new AdapterError('INTERNAL', error.message);
    if (item.delivery.receiveCount >= deps.settings.maxReceiveCount) {
      try {
        const result = await deadLetter(
          item.delivery,
          cause,
          attempted
            ? `failed with an earlier change of its group: ${reasonOf(cause)}`
            : SKIPPED_REASON,
          attempted,
        );
        deps.recordOutcome(item.delivery.ids.connectionId ?? 'unknown', cause.code, 1);
        reports.push({ messageId: item.record.messageId, acknowledged: true, result });
        return;
      } catch (thrown) {
        if (!(thrown instanceof RecordFailedError)) throw thrown;
      }
    }
    reports.push({
      messageId: item.record.messageId,
      acknowledged: false,
      error: new RecordFailedError('Skipped behind a failing record of its group', cause),
      release: true,
    });
  };

  const finish = async (item: (typeof items)[number], outcome: AttemptOutcome) => {
    try {
      const result = await settle(item.delivery, outcome);
      reports.push({ messageId: item.record.messageId, acknowledged: true, result });
    } catch (thrown) {
      const error =
        thrown instanceof RecordFailedError
          ? thrown
          : new RecordFailedError('Unexpected failure', asAdapterError(thrown));
      blocking = error;
      reports.push({
        messageId: item.record.messageId,
        acknowledged: false,
        error,
        release: false,
      });
    }
  };

  let index = 0;
  while (index < items.length) {
    const head = items[index] as (typeof items)[number];
    if (blocking !== undefined) {
      await behind(head, false);
      index += 1;
      continue;
    }
    if (!head.prepared.ok) {
      await finish(head, head.prepared.outcome);
      index += 1;
      continue;
    }
    const run = [head];
    const { envelope, target } = head.prepared;
    if (target.guard !== undefined) {
      while (run.length < MAX_COALESCED) {
        const next = items[index + run.length];
        if (
          next === undefined ||
          !next.prepared.ok ||
          next.prepared.envelope.connectionId !== envelope.connectionId ||
          next.prepared.envelope.userId !== envelope.userId
        ) {
          break;
        }
        run.push(next);
      }
    }
    const outcomes = await applyRun(
      deps,
      run.map((item) => item.prepared as Extract<Prepared, { ok: true }>),
      options.signal,
    );
    for (const [at, item] of run.entries()) {
      const outcome = outcomes[at] ?? failed(new AdapterError('INTERNAL', 'No outcome'));
      // A write that went through carried every change of it: each is settled on its own (a
      // held one keeps the group locked, so the others may go). A write that failed carried
      // them all into its failure: after the first that is not acknowledged, the rest wait.
      if (blocking === undefined || outcome.ok) await finish(item, outcome);
      else await behind(item, true);
    }
    index += run.length;
  }
  return reports;
};
