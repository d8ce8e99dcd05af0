import { createHandler as createQueueHandler, type QueueDeps } from '../lib/queue/handler.ts';
import type { QueuePort } from '../lib/queue/types.ts';
import { createRuntime, type RuntimeEnv, type RuntimeOverrides } from '../lib/runtime/index.ts';
import { queueDeps } from '../lib/runtime/queue.ts';
import { scimDeps } from '../lib/runtime/scim.ts';
import { webhookDeps } from '../lib/runtime/webhook.ts';
import { createHandler as createScimHandler } from '../lib/scim/handler.ts';
import { createHandler as createWebhookHandler, type WebhookDeps } from '../lib/webhook/handler.ts';
import { createLocalFifoQueue, type LocalFifoQueue } from './fifo-queue.ts';
import type { HttpApiHandler, LocalRoute } from './http-api.ts';
import { type QueuePoller, type QueuePollerOptions, startQueuePoller } from './queue-poller.ts';

/** The numbers serverless.yml sets for the deployed functions, so local runs behave alike. */
export const LOCAL_QUEUE_DEFAULTS = {
  webhookTimeoutMs: 29_000,
  consumerTimeoutMs: 60_000,
  /** ≥ 6 × the consumer's timeout, as AWS advises for an event source mapping. */
  visibilityTimeoutSeconds: 360,
  maxReceiveCount: 5,
  /** The event source mapping's maximum concurrency. */
  consumers: 2,
} as const;

/** The webhook function's route as serverless.yml declares it. */
export const webhookRoute = (handler: HttpApiHandler): LocalRoute => ({
  method: 'ANY',
  path: '/webhooks/{connectionId}',
  handler,
  functionName: 'webhook',
  timeoutMs: LOCAL_QUEUE_DEFAULTS.webhookTimeoutMs,
});

/** The SCIM function's route as serverless.yml declares it. */
export const scimRoute = (handler: HttpApiHandler): LocalRoute => ({
  method: 'ANY',
  path: '/scim/v2/{connectionId}/{proxy+}',
  handler,
  functionName: 'scim',
  timeoutMs: LOCAL_QUEUE_DEFAULTS.webhookTimeoutMs,
});

export interface LocalPipelineOptions {
  /** The environment both functions would get (config, secrets file, CIAM endpoint). */
  env: RuntimeEnv;
  /** Replaced parts for both functions (fetch, logger, recordOutcome…). */
  overrides?: RuntimeOverrides;
  /** Parts of the webhook function alone replaced over what it builds (tests record its outcomes). */
  webhook?: Partial<WebhookDeps>;
  /** Parts of the queue function alone replaced over what it builds. */
  consumer?: Partial<QueueDeps>;
  /** Wraps the queue the webhook function sends to (e.g. so sends fail); the consumer's is as is. */
  producer?: (queue: LocalFifoQueue) => QueuePort;
  /** The queues' clock (visibility, dedup window); a faster one compresses waits in a soak. */
  queueNow?: () => number;
  consumerTimeoutMs?: number;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  consumers?: number;
  /** Messages per batch, 1 to 10, as the event source mapping's batchSize. Default 10. */
  batchSize?: number;
  pollIntervalMs?: number;
  /** CIAM requests per second per action for the consumer process (both "instances"). */
  consumerRatePerSecond?: number;
  /** A batch failed in part or whole (default: console.error). */
  onPollerError?: QueuePollerOptions['onError'];
}

export interface LocalPipeline {
  webhookRoute: LocalRoute;
  /** The SCIM function: `ANY /scim/v2/{connectionId}/{proxy+}`. */
  scimRoute: LocalRoute;
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
  poller: QueuePoller;
  stop(): Promise<void>;
}

/**
 * Both functions as deployed, in one process: the webhook function producing into an embedded
 * SQS FIFO queue, and the queue function consuming it through a poller that behaves like the
 * event source mapping. Each function gets its own runtime, as two Lambda functions would.
 */
export const startLocalPipeline = (options: LocalPipelineOptions): LocalPipeline => {
  const queueNow = options.queueNow ?? Date.now;
  const maxReceiveCount = options.maxReceiveCount ?? LOCAL_QUEUE_DEFAULTS.maxReceiveCount;
  const visibilityTimeoutSeconds =
    options.visibilityTimeoutSeconds ?? LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds;
  const deadLetterQueue = createLocalFifoQueue({
    name: 'ciam-webhook-adapter-local-changes-dlq.fifo',
    now: queueNow,
    visibilityTimeoutSeconds,
  });
  const queue = createLocalFifoQueue({
    name: 'ciam-webhook-adapter-local-changes.fifo',
    now: queueNow,
    visibilityTimeoutSeconds,
    maxReceiveCount,
    deadLetterQueue,
  });
  const queues = { queue, deadLetterQueue };
  const env = { ...options.env, QUEUE_MAX_RECEIVE_COUNT: String(maxReceiveCount) };

  const webhookRuntime = createRuntime(env, {
    ...options.overrides,
    ...queues,
    queue: options.producer?.(queue) ?? queue,
  });
  const webhook = createWebhookHandler({ ...webhookDeps(webhookRuntime), ...options.webhook });
  // Its own runtime, as its own Lambda function; it never queues.
  const scim = createScimHandler(scimDeps(createRuntime(env, { ...options.overrides })));
  const consumerRuntime = createRuntime(
    {
      ...env,
      // One process plays every consumer instance, so it gets their combined share of CIAM's limit.
      CIAM_RATE_LIMIT_PER_SECOND: String(options.consumerRatePerSecond ?? 20),
      CIAM_RATE_LIMIT_MAX_WAIT_MS: String(options.consumerTimeoutMs ?? 60_000),
    },
    { ...options.overrides, ...queues },
  );
  const poller = startQueuePoller({
    queue,
    handler: createQueueHandler({
      ...queueDeps(consumerRuntime),
      ...options.consumer,
    }),
    functionName: 'queue',
    timeoutMs: options.consumerTimeoutMs ?? LOCAL_QUEUE_DEFAULTS.consumerTimeoutMs,
    maxConcurrency: options.consumers ?? LOCAL_QUEUE_DEFAULTS.consumers,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.onPollerError === undefined ? {} : { onError: options.onPollerError }),
  });
  return {
    webhookRoute: webhookRoute(webhook as unknown as HttpApiHandler),
    scimRoute: scimRoute(scim as unknown as HttpApiHandler),
    queue,
    deadLetterQueue,
    poller,
    stop: () => poller.stop(),
  };
};
