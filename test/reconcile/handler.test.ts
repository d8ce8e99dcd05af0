import { Logger } from '@aws-lambda-powertools/logger';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DriftCounts } from '../../lib/metrics.ts';
import { createHandler } from '../../lib/reconcile/handler.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import type { SourceUser } from '../../lib/source-apis/types.ts';
import { createLocalFifoQueue, type LocalFifoQueue } from '../../local/fifo-queue.ts';
import { createMemoryLister, sourceUser } from '../../local/reconcile.ts';
import { fakeContext } from '../helpers/context.ts';
import { useEmulator } from '../helpers/emulator.ts';

const T1 = '2026-01-01T00:00:00.000Z';

// The demo seed's users on the demo connections' indexed attribute 1.
const users = (count: number): SourceUser[] => [
  sourceUser('clerk', 'ext-alice', T1, { email: 'alice@example.com', nickname: 'Alice' }),
  ...Array.from({ length: count }, (_, index) =>
    sourceUser('clerk', `ext-new-${index}`, T1, { email: `new${index}@example.com` }),
  ),
];

describe('the scheduled reconcile function', () => {
  const emulator = useEmulator({ rateLimit: 1000 }, { resetBeforeEach: true });
  let queue: LocalFifoQueue;
  let drift: Array<[string, DriftCounts]>;
  const logs: Array<{ level: string; message: string }> = [];

  beforeEach(() => {
    queue = createLocalFifoQueue({ name: 'q.fifo', now: Date.now, visibilityTimeoutSeconds: 30 });
    drift = [];
    logs.length = 0;
  });

  const handlerFor = (
    source: SourceUser[],
    options: { failFromPage?: number; maxChanges?: number } = {},
  ) => {
    const logger = new Logger({ logLevel: 'SILENT' });
    const runtime = createRuntime(
      {
        ADAPTER_CONFIG: 'config/local.json',
        ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
        CIAM_ENDPOINT: emulator().url,
      },
      { recordOutcome: () => {}, logger, queue },
    );
    const deps = reconcileDeps(runtime, {
      lister: createMemoryLister(
        source,
        options.failFromPage === undefined
          ? { pageSize: 1 }
          : { pageSize: 1, failFromPage: options.failFromPage },
      ),
      recordDrift: (connectionId, counts) => drift.push([connectionId, counts]),
    });
    // A real Logger (the chain's middleware needs one) whose lines the test reads.
    const record =
      (level: string) =>
      (message: string): void => {
        logs.push({ level, message });
      };
    logger.info = record('info');
    logger.warn = record('warn');
    logger.error = record('error');
    return createHandler({
      ...deps,
      connection: (id) => {
        const connection = deps.connection(id);
        if (options.maxChanges === undefined) return connection;
        const reconcile = { api: { kind: 'clerk' as const }, maxChanges: options.maxChanges };
        return { ...connection, target: { ...connection.target, reconcile } };
      },
      logger,
    });
  };

  it('plans, applies within the threshold through the queue, and reports the drift', async () => {
    const result = await handlerFor(users(1))(
      { connectionId: 'clerk' },
      fakeContext({ remainingMs: 900_000 }),
    );
    expect(result).toMatchObject({ complete: true, changes: 1, unmatched: 1, applied: 1 });
    expect(queue.stats().total).toBe(1);
    expect(drift).toEqual([['clerk', { changes: 1, unmatched: 1, orphaned: 0 }]]);
    expect(logs.at(-1)).toEqual({
      level: 'info',
      message:
        'RECONCILE connection=clerk source_users=2 matched=1 unmatched=1 orphaned=0 changes=1 applied=1',
    });
  });

  it('above the threshold only reports: nothing queued, the drift recorded, a warning', async () => {
    const result = await handlerFor(users(0), { maxChanges: 0 })(
      { connectionId: 'clerk' },
      fakeContext({ remainingMs: 900_000 }),
    );
    expect(result).toMatchObject({ changes: 1, applied: 0, refused: 'threshold' });
    expect(queue.stats().total).toBe(0);
    expect(drift).toEqual([['clerk', { changes: 1, unmatched: 0, orphaned: 0 }]]);
    expect(logs.at(-1)?.level).toBe('warn');
  });

  it('a source failure mid-way applies nothing and fails the invocation', async () => {
    const handler = handlerFor(users(2), { failFromPage: 1 });
    await expect(
      handler({ connectionId: 'clerk' }, fakeContext({ remainingMs: 900_000 })),
    ).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
    });
    expect(queue.stats().total).toBe(0);
    expect(drift).toEqual([]);
    expect(logs.at(-1)?.level).toBe('error');
  });

  it('refuses an event without a connection, and an unknown connection', async () => {
    const handler = handlerFor(users(0));
    await expect(handler({} as never, fakeContext({ remainingMs: 900_000 }))).rejects.toMatchObject(
      {
        code: 'REQUEST_INVALID',
      },
    );
    await expect(
      handler({ connectionId: 'nope' }, fakeContext({ remainingMs: 900_000 })),
    ).rejects.toMatchObject({
      code: 'CONNECTION_NOT_FOUND',
    });
  });
});
