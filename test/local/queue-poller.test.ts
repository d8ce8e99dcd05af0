import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalFifoQueue, type LocalFifoQueue } from '../../local/fifo-queue.ts';
import {
  type PollerErrorStage,
  type QueuePoller,
  type QueuePollerOptions,
  startQueuePoller,
} from '../../local/queue-poller.ts';

const VISIBILITY_S = 30;

let clock: number;
const now = () => clock;
let pollers: QueuePoller[];

const makeQueue = (extra: { maxReceiveCount?: number; deadLetterQueue?: LocalFifoQueue } = {}) =>
  createLocalFifoQueue({
    name: 'changes.fifo',
    now,
    visibilityTimeoutSeconds: VISIBILITY_S,
    ...extra,
  });

const start = (options: QueuePollerOptions) => {
  const poller = startQueuePoller({ pollIntervalMs: 2, now, ...options });
  pollers.push(poller);
  return poller;
};

const sendAll = async (queue: LocalFifoQueue, items: readonly (readonly [string, string])[]) => {
  for (const [group, id] of items) {
    await queue.send({ body: `${group}:${id}`, groupId: group, deduplicationId: `${group}-${id}` });
  }
};

/** Resolves with the first event the handler sees; the handler answers with `respond`. */
const firstCall = (respond: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>) => {
  let resolveSeen: (event: SQSEvent) => void = () => {};
  const seen = new Promise<SQSEvent>((resolve) => {
    resolveSeen = resolve;
  });
  const handler = async (event: SQSEvent) => {
    resolveSeen(event);
    return respond(event);
  };
  return { seen, handler };
};

const errors = () => {
  const list: { error: unknown; messageIds: string[]; stage: PollerErrorStage }[] = [];
  const onError = (error: unknown, batch: { messageIds: string[]; stage: PollerErrorStage }) =>
    list.push({ error, ...batch });
  return { list, onError };
};

/**
 * Moves the queue clock past the visibility timeout whenever no handler is running, as time
 * passing would; never mid-invocation, so a slow handler is not overtaken by a redelivery.
 */
const passTime = (isIdle: () => boolean) => {
  const timer = setInterval(() => {
    if (isIdle()) clock += VISIBILITY_S * 1000;
  }, 3);
  return () => clearInterval(timer);
};

describe('local/queue-poller', () => {
  beforeEach(() => {
    clock = 1_700_000_000_000;
    pollers = [];
  });
  afterEach(async () => {
    await Promise.allSettled(pollers.map((poller) => poller.stop()));
  });

  it('deletes the records a batch reports as fine and keeps the listed failures', async () => {
    const queue = makeQueue();
    await sendAll(queue, [
      ['a', '1'],
      ['b', '1'],
      ['c', '1'],
    ]);
    const { seen, handler } = firstCall(async (event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'b:1').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    }));
    const poller = start({ queue, handler });
    expect((await seen).Records.map((r) => r.body)).toEqual(['a:1', 'b:1', 'c:1']);
    await poller.stop();
    expect(queue.peek().map((m) => [m.body, m.state, m.receiveCount])).toEqual([
      ['b:1', 'in-flight', 1],
    ]);
  });

  it('deletes nothing when the handler throws', async () => {
    const queue = makeQueue();
    await sendAll(queue, [
      ['a', '1'],
      ['b', '1'],
    ]);
    const failure = new Error('CIAM down');
    const { seen, handler } = firstCall(async () => {
      throw failure;
    });
    const { list, onError } = errors();
    const poller = start({ queue, handler, onError });
    const event = await seen;
    await poller.stop();
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 2, total: 2 });
    expect(list).toEqual([
      { error: failure, messageIds: event.Records.map((r) => r.messageId), stage: 'invoke' },
    ]);
  });

  it.each([
    ['an unknown itemIdentifier', { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['batchItemFailures that is not a list', { batchItemFailures: 'a:1' }],
  ])('fails the whole batch on a response with %s', async (_, response) => {
    const queue = makeQueue();
    await sendAll(queue, [
      ['a', '1'],
      ['b', '1'],
    ]);
    const { seen, handler } = firstCall(async () => response as unknown as SQSBatchResponse);
    const { list, onError } = errors();
    const poller = start({ queue, handler, onError });
    await seen;
    await poller.stop();
    expect(queue.stats().inFlight).toBe(2);
    expect(list.map((e) => e.stage)).toEqual(['response']);
  });

  it('treats an empty or missing response as full success', async () => {
    const queue = makeQueue();
    await sendAll(queue, [
      ['a', '1'],
      ['a', '2'],
      ['b', '1'],
    ]);
    const responses: (SQSBatchResponse | undefined)[] = [undefined, { batchItemFailures: [] }];
    const handler = vi.fn(async () => responses.shift());
    const poller = start({ queue, handler, batchSize: 2 });
    await poller.drain();
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it('fails the batch when the handler outlives the function timeout', async () => {
    const queue = makeQueue();
    await sendAll(queue, [['a', '1']]);
    const { list, onError } = errors();
    const { seen, handler } = firstCall(() => new Promise(() => {}));
    const poller = start({ queue, handler, timeoutMs: 20, onError });
    await seen;
    await vi.waitFor(() => expect(list).toHaveLength(1));
    await poller.stop();
    expect(list[0]).toMatchObject({
      stage: 'invoke',
      error: { message: expect.stringMatching(/timed out/) },
    });
    expect(queue.stats().inFlight).toBe(1);
  });

  it('hands the handler a Lambda context whose remaining time counts down on the injected clock', async () => {
    const queue = makeQueue();
    await sendAll(queue, [['a', '1']]);
    const remaining: number[] = [];
    let context: Context | undefined;
    const poller = start({
      queue,
      functionName: 'ciam-webhook-adapter-dev-queue',
      // Below the visibility timeout, as Lambda requires, so the delete after it still counts.
      timeoutMs: 20_000,
      handler: async (_event, ctx) => {
        context = ctx;
        remaining.push(ctx.getRemainingTimeInMillis());
        clock += 1_500;
        remaining.push(ctx.getRemainingTimeInMillis());
        clock += 25_000;
        remaining.push(ctx.getRemainingTimeInMillis());
      },
    });
    await vi.waitFor(() => expect(remaining).toHaveLength(3));
    await poller.stop();
    expect(remaining).toEqual([20_000, 18_500, 0]);
    expect(queue.stats().total).toBe(0);
    expect(context).toMatchObject({
      functionName: 'ciam-webhook-adapter-dev-queue',
      invokedFunctionArn: expect.stringMatching(/:function:ciam-webhook-adapter-dev-queue$/),
      awsRequestId: expect.any(String),
    });
  });

  it('builds records with the queue ARN and region of the mapping', async () => {
    const queue = makeQueue();
    await sendAll(queue, [['a', '1']]);
    let record: SQSRecord | undefined;
    const poller = start({
      queue,
      region: 'eu-west-1',
      handler: async (event) => {
        record = event.Records[0];
      },
    });
    await poller.drain();
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:changes.fifo',
      awsRegion: 'eu-west-1',
      attributes: { MessageGroupId: 'a', ApproximateReceiveCount: '1' },
    });
  });

  it('keeps each group in order across redeliveries when the handler fails some records first time', async () => {
    const queue = makeQueue();
    const groups = ['u1', 'u2', 'u3', 'u4'];
    const items = Array.from({ length: 6 }, (_, i) =>
      groups.map((g) => [g, String(i)] as const),
    ).flat();
    await sendAll(queue, items);
    const attempts = new Map<string, number>();
    const applied: string[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const groupsRunning = new Set<string>();
    let overlaps = 0;
    // A FIFO-correct consumer: the first failure in a group fails every later record of that group.
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      const batchGroups = new Set(event.Records.map((r) => r.attributes.MessageGroupId ?? ''));
      for (const group of batchGroups) {
        if (groupsRunning.has(group)) overlaps += 1;
        groupsRunning.add(group);
      }
      // Stay running while the poller goes on, so overlapping batches would be seen.
      await new Promise((resolve) => setImmediate(resolve));
      const failedGroups = new Set<string>();
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        const group = record.attributes.MessageGroupId ?? '';
        const attempt = (attempts.get(record.body) ?? 0) + 1;
        attempts.set(record.body, attempt);
        const flaky = ['1', '4'].includes(record.body.split(':')[1] ?? '') && attempt === 1;
        if (failedGroups.has(group) || flaky) {
          failedGroups.add(group);
          failures.push({ itemIdentifier: record.messageId });
        } else {
          applied.push(record.body);
        }
      }
      for (const group of batchGroups) groupsRunning.delete(group);
      running -= 1;
      return { batchItemFailures: failures };
    };
    const poller = start({ queue, handler, batchSize: 3, maxConcurrency: 2 });
    const stopPassingTime = passTime(() => running === 0);
    await poller.drain();
    stopPassingTime();

    for (const group of groups) {
      expect(applied.filter((body) => body.startsWith(`${group}:`))).toEqual(
        Array.from({ length: 6 }, (_, i) => `${group}:${i}`),
      );
    }
    expect(attempts.get('u1:1')).toBe(2);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    expect(overlaps).toBe(0);
  });

  it('redelivers at once what the handler made visible again, without waiting for the timeout', async () => {
    const queue = makeQueue();
    await sendAll(queue, [
      ['a', '1'],
      ['a', '2'],
    ]);
    const seen: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        seen.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
        if (record.attributes.ApproximateReceiveCount === '1') {
          await queue.changeVisibility(record.receiptHandle, 0);
          failures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures: failures };
    };
    await start({ queue, handler }).drain();
    expect(seen).toEqual(['a:1#1', 'a:2#1', 'a:1#2', 'a:2#2']);
  });

  it('lets redrive move a message the handler always fails to the dead-letter queue', async () => {
    const dlq = createLocalFifoQueue({
      name: 'changes-dlq.fifo',
      now,
      visibilityTimeoutSeconds: 30,
    });
    const queue = makeQueue({ maxReceiveCount: 3, deadLetterQueue: dlq });
    await sendAll(queue, [
      ['a', 'poison'],
      ['b', 'fine'],
    ]);
    let running = 0;
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      running += 1;
      const failures = event.Records.filter((r) => r.body === 'a:poison').map((r) => ({
        itemIdentifier: r.messageId,
      }));
      running -= 1;
      return { batchItemFailures: failures };
    };
    const poller = start({ queue, handler });
    const stopPassingTime = passTime(() => running === 0);
    await poller.drain();
    stopPassingTime();
    expect(dlq.peek().map((m) => [m.body, m.deadLetterSourceQueue])).toEqual([
      ['a:poison', 'changes.fifo'],
    ]);
  });

  it('drains at once when the queue is already empty', async () => {
    const poller = start({ queue: makeQueue(), handler: async () => {} });
    await expect(poller.drain()).resolves.toBeUndefined();
  });

  it('rejects a pending drain when the poller is stopped first', async () => {
    const queue = makeQueue();
    await sendAll(queue, [['a', '1']]);
    const { seen, handler } = firstCall(async () => {
      throw new Error('keep it');
    });
    const poller = start({ queue, handler, onError: () => {} });
    const drained = poller.drain();
    await seen;
    await poller.stop();
    await expect(drained).rejects.toThrow(/stopped/);
    await expect(poller.drain()).rejects.toThrow(/stopped/);
  });

  it('rejects a batch size above the FIFO maximum of 10', () => {
    expect(() =>
      startQueuePoller({ queue: makeQueue(), handler: async () => {}, batchSize: 11 }),
    ).toThrow(RangeError);
  });
});
