import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import type { CiamApi } from '../../lib/ciam/types.ts';
import type { QueueDeps } from '../../lib/queue/handler.ts';
import type { QueuePort } from '../../lib/queue/types.ts';
import type { RuntimeOverrides } from '../../lib/runtime/index.ts';
import { signHmacDelivery } from '../../lib/sources/hmac/sender.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import type { WebhookDeps } from '../../lib/webhook/handler.ts';
import type { LocalFifoQueue } from '../../local/fifo-queue.ts';
import { type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { startLocalPipeline } from '../../local/pipeline.ts';
import type { PollerErrorStage, QueuePoller } from '../../local/queue-poller.ts';
import { readJson } from './files.ts';

/** Queued delivery as `npm start` runs it: local FIFO queue + DLQ, a poller, the consumer. */
export interface QueueStack {
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
  poller: QueuePoller;
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
  queue: QueueStack;
  /** An independent CIAM client for assertions, with the emulator's demo credentials. */
  ciam: CiamApi;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Replaces config/local.json (written to a temp file). */
  config?: unknown;
  /** Replaces config/local-secrets.json (written to a temp file). */
  secrets?: unknown;
  /** Overrides applied to the webhook function's dependencies (e.g. a recording `recordOutcome`). */
  deps?: Partial<WebhookDeps>;
  /** Parts of every function's runtime replaced (e.g. a `secrets` source that counts reads). */
  overrides?: RuntimeOverrides;
  /** Where the local API Gateway listens (default 127.0.0.1; `::` takes IPv4 and IPv6 peers). */
  host?: string;
  /** The queue between the webhook function and the queue function (`delivery: "queued"`). */
  queue?: StackQueueOptions;
}

/** POSTs a JSON body to the demo `hmac` connection, signed with the demo secret. */
export const postToDemoHmac = (baseUrl: string, body: string): Promise<Response> =>
  fetch(`${baseUrl}/webhooks/hmac`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...signHmacDelivery({ body, secret: 'demo-hmac-secret', nowMs: Date.now() }),
    },
    body,
  });

/**
 * The whole adapter as `npm start` runs it (local/pipeline.ts: both functions and the queue
 * between them), against a fresh emulator, behind the local API Gateway over real HTTP.
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
  const pollerErrors: QueueStack['pollerErrors'] = [];
  const pipeline = startLocalPipeline({
    env: {
      ADAPTER_CONFIG: configPath,
      ADAPTER_SECRETS_FILE: secretsPath,
      CIAM_ENDPOINT: emulator.url,
    },
    ...(options.overrides === undefined ? {} : { overrides: options.overrides }),
    ...(options.deps === undefined ? {} : { webhook: options.deps }),
    ...(options.queue?.deps === undefined ? {} : { consumer: options.queue.deps }),
    ...(options.queue?.producer === undefined ? {} : { producer: options.queue.producer }),
    ...(options.queue?.maxReceiveCount === undefined
      ? {}
      : { maxReceiveCount: options.queue.maxReceiveCount }),
    onPollerError: (error, batch) => pollerErrors.push({ error, ...batch }),
  });
  const server = await startLocalServer({
    routes: [pipeline.webhookRoute, pipeline.scimRoute],
    ...(options.host === undefined ? {} : { host: options.host }),
  });
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
    queue: {
      queue: pipeline.queue,
      deadLetterQueue: pipeline.deadLetterQueue,
      poller: pipeline.poller,
      pollerErrors,
    },
    ciam,
    close: async () => {
      await pipeline.stop();
      await server.close();
      await emulator.close();
    },
  };
};
