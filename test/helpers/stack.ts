import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import type { CiamApi } from '../../lib/ciam/types.ts';
import { createHandler as createQueueHandler, type QueueDeps } from '../../lib/queue/handler.ts';
import type { QueuePort } from '../../lib/queue/types.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { queueDeps } from '../../lib/runtime/queue.ts';
import { scimDeps } from '../../lib/runtime/scim.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';
import { createHandler as createScimHandler } from '../../lib/scim/handler.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { createHandler, type WebhookDeps } from '../../lib/webhook/handler.ts';
import { createLocalFifoQueue, type LocalFifoQueue } from '../../local/fifo-queue.ts';
import {
  type HttpApiHandler,
  type LocalRoute,
  type LocalServer,
  startLocalServer,
} from '../../local/http-api.ts';
import {
  type PollerErrorStage,
  type QueuePoller,
  type SqsBatchHandler,
  startQueuePoller,
} from '../../local/queue-poller.ts';

/** Queued delivery as `npm start` would run it: local FIFO queue + DLQ, a poller, the consumer. */
export interface QueueStack {
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
  poller: QueuePoller;
  deps: QueueDeps;
  /** Batches the poller reported as failed in part or whole (the poller's onError). */
  pollerErrors: Array<{ error: unknown; messageIds: string[]; stage: PollerErrorStage }>;
}

export interface StackQueueOptions {
  /** Wraps the queue the webhook function sends to, e.g. to make sends fail. */
  producer?: (queue: LocalFifoQueue) => QueuePort;
  /** Overrides applied to the consumer's dependencies (e.g. a recording `recordOutcome`). */
  deps?: Partial<QueueDeps>;
  /** The redrive policy's maxReceiveCount, also given to the consumer. Default 5. */
  maxReceiveCount?: number;
}

export interface Stack {
  emulator: Emulator;
  server: LocalServer;
  deps: WebhookDeps;
  /** Set when the stack was started with `queue`. */
  queue: QueueStack | undefined;
  /** An independent CIAM client for assertions, with the emulator's demo credentials. */
  ciam: CiamApi;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Replaces config/local.json (written to a temp file). */
  config?: unknown;
  /** Replaces config/local-secrets.json (written to a temp file). */
  secrets?: unknown;
  /** Overrides applied to the default dependencies (e.g. a recording `recordOutcome`). */
  deps?: Partial<WebhookDeps>;
  /** Adds local FIFO queues, a poller and the queue consumer (for `delivery: "queued"`). */
  queue?: StackQueueOptions;
}

const startQueues = (options: StackQueueOptions) => {
  const maxReceiveCount = options.maxReceiveCount ?? 5;
  const deadLetterQueue = createLocalFifoQueue({
    name: 'changes-dlq.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: 30,
  });
  const queue = createLocalFifoQueue({
    name: 'changes.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount,
    deadLetterQueue,
  });
  return { queue, deadLetterQueue, maxReceiveCount };
};

/** The SCIM function's route as serverless.yml declares it. */
/** POSTs a JSON body to the demo `hmac` connection, signed with the demo secret. */
export const postToDemoHmac = (baseUrl: string, body: string): Promise<Response> =>
  fetch(`${baseUrl}/webhooks/hmac`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', 'demo-hmac-secret').update(body).digest('hex')}`,
    },
    body,
  });

export const scimRoute = (handler: HttpApiHandler): LocalRoute => ({
  method: 'ANY',
  path: '/scim/v2/{connectionId}/{proxy+}',
  handler,
  functionName: 'scim',
  timeoutMs: 29_000,
});

/** The webhook function's route as serverless.yml declares it. */
export const webhookRoute = (handler: HttpApiHandler): LocalRoute => ({
  method: 'ANY',
  path: '/webhooks/{connectionId}',
  handler,
  functionName: 'webhook',
  timeoutMs: 29_000,
});

export const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/**
 * The whole adapter as `npm start` runs it: emulator, real handler from its composition root,
 * local API Gateway over real HTTP.
 */
export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const emulator = await startEmulator({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'ciam-stack-'));
  const configPath = join(dir, 'config.json');
  const secretsPath = join(dir, 'secrets.json');
  writeFileSync(configPath, JSON.stringify(options.config ?? readJson('config/local.json')));
  writeFileSync(
    secretsPath,
    JSON.stringify(options.secrets ?? readJson('config/local-secrets.json')),
  );
  const env = {
    ADAPTER_CONFIG: configPath,
    ADAPTER_SECRETS_FILE: secretsPath,
    CIAM_ENDPOINT: emulator.url,
  };
  const config = (options.config ?? readJson('config/local.json')) as {
    connections?: Array<{ delivery?: string }>;
  };
  // A configuration with a queued connection needs the queue, as on AWS (the demo config has one).
  const queueOptions =
    options.queue ??
    (config.connections?.some((c) => c.delivery === 'queued') === true ? {} : undefined);
  const queues = queueOptions === undefined ? undefined : startQueues(queueOptions);
  const runtime = createRuntime(
    queues === undefined
      ? env
      : { ...env, QUEUE_MAX_RECEIVE_COUNT: String(queues.maxReceiveCount) },
    queues === undefined
      ? {}
      : {
          queue: options.queue?.producer?.(queues.queue) ?? queues.queue,
          deadLetterQueue: queues.deadLetterQueue,
        },
  );
  const deps = { ...webhookDeps(runtime), ...options.deps };
  const handler = createHandler(deps) as unknown as HttpApiHandler;
  const scim = createScimHandler(scimDeps(runtime)) as unknown as HttpApiHandler;
  const server = await startLocalServer({ routes: [webhookRoute(handler), scimRoute(scim)] });
  let queue: QueueStack | undefined;
  if (queues !== undefined) {
    // The consumer changes visibility on the queue itself, not through a producer wrapper.
    const consumerDeps = { ...queueDeps(runtime), queue: queues.queue, ...options.queue?.deps };
    const pollerErrors: QueueStack['pollerErrors'] = [];
    const poller = startQueuePoller({
      queue: queues.queue,
      handler: createQueueHandler(consumerDeps) as unknown as SqsBatchHandler,
      functionName: 'queue',
      onError: (error, batch) => pollerErrors.push({ error, ...batch }),
    });
    queue = {
      queue: queues.queue,
      deadLetterQueue: queues.deadLetterQueue,
      poller,
      deps: consumerDeps,
      pollerErrors,
    };
  }
  const ciam = createCiamClient(
    createTencentClient({
      fetch,
      now: Date.now,
      endpoint: emulator.url,
      credentials: {
        get: async () => ({ secretId: 'AKIDlocaldemo', secretKey: 'localdemosecret' }),
        invalidate: () => {},
      },
    }),
  );
  return {
    emulator,
    server,
    deps,
    queue,
    ciam,
    close: async () => {
      await queue?.poller.stop();
      await server.close();
      await emulator.close();
    },
  };
};
