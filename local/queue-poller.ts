import { randomBytes, randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LocalFifoQueue, ReceivedMessage } from './fifo-queue.ts';

export type SqsBatchHandler = (
  event: SQSEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: as @types/aws-lambda's SQSHandler, so `async () => {}` fits.
) => Promise<SQSBatchResponse | void>;

/** Where a batch went wrong: the invocation (throw or timeout), its response, or a delete. */
export type PollerErrorStage = 'invoke' | 'response' | 'delete';

export interface QueuePollerOptions {
  queue: LocalFifoQueue;
  handler: SqsBatchHandler;
  /** Records per invocation, 1–10 (the FIFO maximum). Default 10. */
  batchSize?: number;
  /** Batches in flight at once. Default 2, the least an event source mapping allows. */
  maxConcurrency?: number;
  /** How often an idle poller asks the queue again. Default 50 ms. */
  pollIntervalMs?: number;
  functionName?: string;
  /** The function timeout: the invocation fails after this, and the context counts down from it. */
  timeoutMs?: number;
  /** Epoch milliseconds, for the context's remaining time. Default Date.now. */
  now?: () => number;
  region?: string;
  /** Default: an ARN built from the region and the queue name. */
  queueArn?: string;
  /** A batch failed in part or whole. Default: console.error. */
  onError?: (error: unknown, batch: { messageIds: string[]; stage: PollerErrorStage }) => void;
}

export interface QueuePoller {
  /** Stops polling and waits for the batches in flight. */
  stop(): Promise<void>;
  /**
   * Resolves once the queue holds nothing (visible or in flight) and no batch is running;
   * rejects if the poller is stopped first.
   */
  drain(): Promise<void>;
}

const ACCOUNT_ID = '123456789012';

const createContext = (
  functionName: string,
  region: string,
  timeoutMs: number,
  now: () => number,
): Context => {
  const deadline = now() + timeoutMs;
  const day = new Date(now()).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

/**
 * The ids to keep, or an error when Lambda would count the response as malformed: with
 * ReportBatchItemFailures a missing, empty or unknown itemIdentifier fails the whole batch.
 */
const failedIds = (response: unknown, batch: ReadonlySet<string>): Set<string> | Error => {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) {
    return new Error('The handler returned something other than an SQSBatchResponse');
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return new Error('batchItemFailures is not an array');
  const ids = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !batch.has(id)) {
      return new Error(`batchItemFailures names ${JSON.stringify(id)}, not a record of this batch`);
    }
    ids.add(id);
  }
  return ids;
};

const withTimeout = async <T>(work: Promise<T>, timeoutMs: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
      timeoutMs,
    );
  });
  // Lambda would freeze a timed-out invocation; here it runs on, and its late failure is moot.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Drives an SQS handler the way Lambda's event source mapping does with ReportBatchItemFailures:
 * receive a batch, invoke, delete the records not reported as failures. A thrown error, a
 * timeout or a malformed response deletes nothing, so the whole batch comes back after its
 * visibility timeout. The queue's group lock keeps each message group in one batch at a time.
 */
export const startQueuePoller = (options: QueuePollerOptions): QueuePoller => {
  const {
    queue,
    handler,
    batchSize = 10,
    maxConcurrency = 2,
    pollIntervalMs = 50,
    functionName = 'local-queue-consumer',
    timeoutMs = 30_000,
    now = Date.now,
    region = 'ap-southeast-1',
    onError = (error, batch) =>
      console.error(`queue poller: batch failed at ${batch.stage}`, batch.messageIds, error),
  } = options;
  const queueArn = options.queueArn ?? `arn:aws:sqs:${region}:${ACCOUNT_ID}:${queue.name}`;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new RangeError('batchSize must be an integer from 1 to 10 for a FIFO queue');
  }
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
    throw new RangeError('maxConcurrency must be a positive integer');
  }

  let running = true;
  let timer: NodeJS.Timeout | undefined;
  const active = new Set<Promise<void>>();
  const drainers: { resolve: () => void; reject: (error: Error) => void }[] = [];

  const report = (error: unknown, messageIds: string[], stage: PollerErrorStage) => {
    try {
      onError(error, { messageIds, stage });
    } catch {
      // A failing error hook must not stop the poller.
    }
  };

  const runBatch = async (messages: ReceivedMessage[]) => {
    const messageIds = messages.map((message) => message.messageId);
    const event = queue.toSqsEvent(messages, { queueArn, region });
    const context = createContext(functionName, region, timeoutMs, now);
    let response: unknown;
    try {
      response = await withTimeout(
        Promise.resolve().then(() => handler(event, context)),
        timeoutMs,
      );
    } catch (error) {
      report(error, messageIds, 'invoke');
      return;
    }
    const failed = failedIds(response, new Set(messageIds));
    if (failed instanceof Error) {
      report(failed, messageIds, 'response');
      return;
    }
    for (const message of messages) {
      if (failed.has(message.messageId)) continue;
      try {
        queue.delete(message.receiptHandle);
      } catch (error) {
        // Typically the handler outran the visibility timeout: the message is delivered again.
        report(error, [message.messageId], 'delete');
      }
    }
  };

  const settleDrains = () => {
    if (drainers.length === 0 || active.size > 0 || queue.stats().total > 0) return;
    for (const drainer of drainers.splice(0)) drainer.resolve();
  };

  const pump = () => {
    while (running && active.size < maxConcurrency) {
      const messages = queue.receive({ max: batchSize });
      if (messages.length === 0) break;
      const batch: Promise<void> = runBatch(messages).finally(() => {
        active.delete(batch);
        pump();
      });
      active.add(batch);
    }
    settleDrains();
    if (running && timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        pump();
      }, pollIntervalMs);
    }
  };

  pump();

  return {
    async stop() {
      running = false;
      clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...active]);
      settleDrains();
      for (const drainer of drainers.splice(0)) {
        drainer.reject(new Error('The queue poller stopped before the queue drained'));
      }
    },

    drain() {
      return new Promise<void>((resolve, reject) => {
        drainers.push({ resolve, reject });
        settleDrains();
        if (!running) {
          for (const drainer of drainers.splice(0)) {
            drainer.reject(new Error('The queue poller is stopped'));
          }
        }
      });
    },
  };
};
