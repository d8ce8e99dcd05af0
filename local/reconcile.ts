// What `npm run reconcile -- --local`, its tests and `npm run bench:reconcile` run a
// reconciliation with besides the emulator: source users from memory or a file, and an in-process
// FIFO queue with the real queue consumer to apply through.
import { readFileSync } from 'node:fs';
import type { UserChange } from '../lib/change.ts';
import { createHandler as createQueueHandler } from '../lib/queue/handler.ts';
import { createRuntime, type RuntimeEnv, type RuntimeOverrides } from '../lib/runtime/index.ts';
import { queueDeps } from '../lib/runtime/queue.ts';
import type { SourceUser, SourceUserLister } from '../lib/source-apis/types.ts';
import { createLocalFifoQueue, type LocalFifoQueue } from './fifo-queue.ts';
import { LOCAL_QUEUE_DEFAULTS } from './pipeline.ts';
import { type QueuePoller, startQueuePoller } from './queue-poller.ts';

export interface MemoryListerOptions {
  pageSize?: number;
  /** Fails every listPage from this page on (0-based), as a source API going down mid-way. */
  failFromPage?: number;
  failure?: () => Error;
}

export interface MemoryLister extends SourceUserLister {
  /** listPage calls so far. */
  readonly calls: number;
  /** Lets listing succeed again (a source that came back). */
  recover(): void;
}

/**
 * The source user contract over a list in memory: pages of `pageSize`, the cursor being the
 * offset. Our own contract's implementation, used where a source's real API would be.
 */
export const createMemoryLister = (
  users: readonly SourceUser[],
  options: MemoryListerOptions = {},
): MemoryLister => {
  const pageSize = options.pageSize ?? 100;
  let calls = 0;
  let failing = options.failFromPage;
  return {
    get calls() {
      return calls;
    },
    recover() {
      failing = undefined;
    },
    async listPage(cursor) {
      calls += 1;
      const offset = cursor === undefined ? 0 : Number(cursor);
      if (failing !== undefined && offset / pageSize >= failing) {
        throw options.failure?.() ?? new Error('The source API is unavailable');
      }
      const end = offset + pageSize;
      return {
        users: users.slice(offset, end),
        next: end < users.length ? String(end) : undefined,
      };
    },
  };
};

/**
 * Source users from a JSON file: an array of `{ externalId, updatedAt, change }` records, each
 * change already in the adapter's UserChange form (as a source's user API client makes them).
 */
export const readSourceUsersFile = (path: string): SourceUser[] => {
  const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(value)) throw new Error(`${path}: expected an array of source users`);
  return value as SourceUser[];
};

/** A snapshot change as a source's user API client makes one: every attribute, at `updatedAt`. */
export const snapshotChange = (
  connectionId: string,
  externalId: string,
  updatedAt: string,
  attributes: UserChange['attributes'],
): UserChange => ({
  connectionId,
  eventId: `snapshot:${externalId}:${updatedAt}`,
  eventType: 'user.snapshot',
  occurredAt: updatedAt,
  subject: {
    externalId,
    ...(attributes.email === undefined ? {} : { email: attributes.email }),
    ...(attributes.phone === undefined ? {} : { phone: attributes.phone }),
  },
  attributes,
  raw: { id: externalId, updated_at: updatedAt },
});

export const sourceUser = (
  connectionId: string,
  externalId: string,
  updatedAt: string,
  attributes: UserChange['attributes'],
): SourceUser => ({
  externalId,
  updatedAt,
  change: snapshotChange(connectionId, externalId, updatedAt, attributes),
});

export interface ReconcileQueue {
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
  poller: QueuePoller;
  /** Resolves once every queued change was applied (or dead-lettered). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The queue function as deployed, in this process: a local FIFO queue and its dead-letter queue,
 * a poller standing in for the event source mapping, and the real consumer at `ratePerSecond`
 * CIAM calls per action (20, CIAM's limit, by default). `npm start`'s own queue lives in its
 * process, out of reach; changes applied here are ordered against its webhooks by the field
 * clocks, not by a shared FIFO group.
 */
export const startReconcileQueue = (options: {
  env: RuntimeEnv;
  overrides?: RuntimeOverrides;
  ratePerSecond?: number;
}): ReconcileQueue => {
  const deadLetterQueue = createLocalFifoQueue({
    name: 'ciam-webhook-adapter-reconcile-dlq.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
  });
  const queue = createLocalFifoQueue({
    name: 'ciam-webhook-adapter-reconcile.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds,
    maxReceiveCount: LOCAL_QUEUE_DEFAULTS.maxReceiveCount,
    deadLetterQueue,
  });
  const runtime = createRuntime(
    {
      ...options.env,
      QUEUE_MAX_RECEIVE_COUNT: String(LOCAL_QUEUE_DEFAULTS.maxReceiveCount),
      CIAM_RATE_LIMIT_PER_SECOND: String(options.ratePerSecond ?? 20),
      CIAM_RATE_LIMIT_MAX_WAIT_MS: String(LOCAL_QUEUE_DEFAULTS.consumerTimeoutMs),
    },
    { recordOutcome: () => {}, ...options.overrides, queue, deadLetterQueue },
  );
  const poller = startQueuePoller({
    queue,
    handler: createQueueHandler(queueDeps(runtime)),
    functionName: 'queue',
    timeoutMs: LOCAL_QUEUE_DEFAULTS.consumerTimeoutMs,
    maxConcurrency: LOCAL_QUEUE_DEFAULTS.consumers,
  });
  return {
    queue,
    deadLetterQueue,
    poller,
    drain: () => poller.drain(),
    stop: () => poller.stop(),
  };
};
