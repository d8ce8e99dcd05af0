// The queue consumer's middy chain. Side-effect free: `handlers/queue.ts` builds it once from the
// runtime; tests build it from fakes.
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AdapterError } from '../errors.ts';
import { type ConsumerDeps, consumeRecord } from './consumer.ts';

export interface QueueDeps extends ConsumerDeps {
  logger: Logger;
  /**
   * Changes still being applied are aborted this long before the function's deadline, leaving
   * time to delay or dead-letter them and to answer. Default 2000.
   */
  deadlineMarginMs?: number;
}

const DEFAULT_DEADLINE_MARGIN_MS = 2000;

/**
 * SQS FIFO batch with ReportBatchItemFailures. Records run one after another; a failed record
 * fails the records after it in its message group (so a user's changes never overtake each
 * other), while other groups go on. A fully failed batch is reported, not thrown: throwing would
 * also make Lambda scale the queue's pollers down.
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
        // A processor holds one batch's state: one per invocation, as invocations may overlap
        // locally (the poller runs two at a time against one handler).
        const tried = new Set<string>();
        const response = await processPartialResponse(
          event,
          (record: SQSRecord) => {
            tried.add(record.messageId);
            return consumeRecord(deps, record, { signal: deadline.signal });
          },
          new SqsFifoPartialProcessorAsync(),
          { context, skipGroupOnError: true, throwOnFullBatchFailure: false },
        );
        await releaseSkipped(deps, event, response, tried);
        return response;
      } finally {
        clearTimeout(timer);
      }
    });

/**
 * Records failed only because an earlier one of their group failed were never tried; left alone
 * they would stay hidden for the whole visibility timeout (6 × the function's), long after the
 * failed record's own backoff. Making them visible at once is safe: SQS returns no message of a
 * FIFO group while an earlier one is in flight, so they still come after it, in order.
 */
const releaseSkipped = async (
  deps: QueueDeps,
  event: SQSEvent,
  response: SQSBatchResponse,
  tried: ReadonlySet<string>,
): Promise<void> => {
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  for (const record of event.Records) {
    if (!failed.has(record.messageId) || tried.has(record.messageId)) continue;
    await deps.queue.changeVisibility(record.receiptHandle, 0).catch((error: unknown) => {
      // Harmless: the record then comes back after the queue's visibility timeout.
      deps.logger.warn('could not release a record skipped behind its group', {
        messageId: record.messageId,
        error,
      });
    });
  }
};
