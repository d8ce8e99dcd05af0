// The queue consumer's middy chain. Side-effect free: `handlers/queue.ts` builds it once from the
// runtime; tests build it from fakes.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULT_TENANT_ID, tenantIdOf } from '../config/tenants.ts';
import { AdapterError } from '../errors.ts';
import { type ConsumerDeps, consumeGroup, type GroupRecordReport, idsOf } from './consumer.ts';

export interface QueueDeps extends ConsumerDeps {
  logger: Logger;
  /**
   * Changes still being applied are aborted this long before the function's deadline, leaving
   * time to delay or dead-letter them and to answer. Default 2000.
   */
  deadlineMarginMs?: number;
}

const DEFAULT_DEADLINE_MARGIN_MS = 2000;

/** A batch's records by message group, each group in the batch's order. */
const byGroup = (records: readonly SQSRecord[]): SQSRecord[][] => {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    // A record without a group id (not from a FIFO queue) is a group of its own.
    const key = record.attributes.MessageGroupId ?? `\u0000${record.messageId}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [record]);
    else group.push(record);
  }
  return [...groups.values()];
};

/**
 * The groups by the tenant they write to (read off the first record's connection; a record whose
 * connection cannot be read goes with the default tenant, to fail on its own).
 */
const byTenant = (deps: ConsumerDeps, groups: readonly SQSRecord[][]): SQSRecord[][][] => {
  const lanes = new Map<string, SQSRecord[][]>();
  for (const group of groups) {
    const first = group[0];
    const connectionId = first === undefined ? undefined : idsOf(first.body).connectionId;
    const connection = connectionId === undefined ? undefined : deps.connections.get(connectionId);
    const tenant = connection === undefined ? DEFAULT_TENANT_ID : tenantIdOf(connection);
    const lane = lanes.get(tenant);
    if (lane === undefined) lanes.set(tenant, [group]);
    else lane.push(group);
  }
  return [...lanes.values()];
};

/**
 * SQS FIFO batch with ReportBatchItemFailures. The batch is split by message group; each group's
 * records go to consumeGroup in order, which applies a user's consecutive changes as one write.
 * A record not acknowledged fails the records after it in its group (so a user's changes never
 * overtake each other), while other groups go on: a held or failing group never holds another
 * user's records. A fully failed batch is reported, not thrown: throwing would also make Lambda
 * scale the queue's pollers down. A tenant's groups run one after another, like the records did
 * before, so the function's CIAM rate per account stays what the deployment's concurrency was
 * sized for; different tenants' groups run side by side, so one tenant's outage, retries or rate
 * limit waits never delay another tenant's changes.
 */
export const createHandler = (deps: QueueDeps) =>
  middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const budgetMs =
        context.getRemainingTimeInMillis() - (deps.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
      const deadline = new AbortController();
      const stop = () =>
        deadline.abort(new AdapterError('DEADLINE_EXCEEDED', 'The function is about to time out'));
      // No time at all: abort before the first record rather than on the next tick.
      if (budgetMs <= 0) stop();
      const timer = budgetMs > 0 ? setTimeout(stop, budgetMs) : undefined;
      try {
        const lanes = await Promise.all(
          byTenant(deps, byGroup(event.Records)).map(async (groups) => {
            const lane: GroupRecordReport[] = [];
            for (const group of groups) {
              lane.push(...(await consumeGroup(deps, group, { signal: deadline.signal })));
            }
            return lane;
          }),
        );
        const reports = lanes.flat();
        await releaseSkipped(deps, event, reports);
        const failed = new Set(
          reports.filter((report) => !report.acknowledged).map((report) => report.messageId),
        );
        // In the batch's order, as SQS and the poller read them.
        return {
          batchItemFailures: event.Records.filter((record) => failed.has(record.messageId)).map(
            (record) => ({ itemIdentifier: record.messageId }),
          ),
        };
      } finally {
        clearTimeout(timer);
      }
    });

/**
 * Records failed only because an earlier one of their group failed; left alone they would stay
 * hidden for the whole visibility timeout (6 × the function's), long after the failed record's
 * own backoff. Making them visible at once is safe: SQS returns no message of a FIFO group while
 * an earlier one is in flight, so they still come after it, in order.
 */
const releaseSkipped = async (
  deps: QueueDeps,
  event: SQSEvent,
  reports: readonly GroupRecordReport[],
): Promise<void> => {
  const released = new Set(
    reports.filter((report) => !report.acknowledged && report.release).map((r) => r.messageId),
  );
  for (const record of event.Records) {
    if (!released.has(record.messageId)) continue;
    await deps.queue.changeVisibility(record.receiptHandle, 0).catch((error: unknown) => {
      // Harmless: the record then comes back after the queue's visibility timeout.
      deps.logger.warn('could not release a record skipped behind its group', {
        messageId: record.messageId,
        error,
      });
    });
  }
};
