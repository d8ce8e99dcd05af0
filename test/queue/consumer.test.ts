import { readFileSync } from 'node:fs';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlannedUpdate } from '../../lib/ciam/apply.ts';
import { connectionTag } from '../../lib/ciam/field-clocks.ts';
import type { UserResolver } from '../../lib/ciam/resolve.ts';
import type { Connection } from '../../lib/config/types.ts';
import { backoffSeconds } from '../../lib/queue/consumer.ts';
import { type QueueEnvelope, toEnvelope } from '../../lib/queue/envelope.ts';
import { createHandler, type QueueDeps } from '../../lib/queue/handler.ts';
import { createQueuedDelivery } from '../../lib/queue/producer.ts';
import type { QueuePort } from '../../lib/queue/types.ts';
import { createRuntime, type RuntimeOverrides } from '../../lib/runtime/index.ts';
import { queueDeps } from '../../lib/runtime/queue.ts';
import {
  createLocalFifoQueue,
  type LocalFifoQueue,
  type ReceivedMessage,
} from '../../local/fifo-queue.ts';
import { fakeContext } from '../helpers/context.ts';
import { EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;
const REGION = 'ap-southeast-1';
const QUEUE_ARN = `arn:aws:sqs:${REGION}:123456789012:changes.fifo`;
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/123456789012/changes.fifo`;
const DLQ_URL = `https://sqs.${REGION}.amazonaws.com/123456789012/changes-dlq.fifo`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** config/local.json: its `clerk-queued` is the clerk connection with queued delivery. */
const CONFIG = JSON.parse(readFileSync('config/local.json', 'utf8'));

const runtimeEnv = (ciamUrl: string, extra: Record<string, string> = {}) => ({
  ADAPTER_CONFIG: 'virtual-config.json',
  ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
  CIAM_ENDPOINT: ciamUrl,
  ...extra,
});

const readConfig = () => JSON.stringify(CONFIG);

type Outcome = { connectionId: string; outcome: string; count: number };

interface Harness {
  queue: LocalFifoQueue;
  deadLetterQueue: LocalFifoQueue;
  deps: QueueDeps;
  handler: ReturnType<typeof createHandler>;
  connection: Connection;
  outcomes: Outcome[];
  /** ChangeMessageVisibility calls the consumer made. */
  visibility: Array<{ receiptHandle: string; seconds: number }>;
  /** Moves the queues' clock (not the CIAM client's) forward. */
  advance(seconds: number): void;
  /** Queues one change for a user of `clerk-queued`, as the webhook function does. */
  produce(change: TestChange, connection?: Connection): Promise<string>;
  /** Queues raw bytes, as a broken or foreign producer might. */
  sendRaw(body: string, groupId?: string): Promise<string>;
  /**
   * One event source mapping poll: receive a batch, invoke, delete what was not reported failed.
   */
  poll(context?: Context): Promise<{ messages: ReceivedMessage[]; response: SQSBatchResponse }>;
}

interface TestChange {
  eventId: string;
  externalId?: string;
  occurredAt?: string;
  nickname: string;
}

const planned = (change: TestChange): PlannedUpdate & { change: { eventType: string } } => ({
  change: {
    eventId: change.eventId,
    eventType: 'user.updated',
    occurredAt: change.occurredAt ?? new Date().toISOString(),
    subject: { externalId: change.externalId ?? 'ext-alice' },
  },
  draft: { UserStoreId: STORE, Nickname: change.nickname },
});

const emptyResponse = { batchItemFailures: [] };

/** The seed's users by IndexedAttribute1, as the webhook function's lookup finds them. */
const SEED_USER_IDS: Readonly<Record<string, string>> = {
  'ext-alice': 'demo-user-1',
  'ext-bob': 'demo-user-2',
};

/**
 * The producer's resolver here: it answers from the seed, so the emulator's call log holds only
 * what the consumer asked. `overrides` plays a stale lookup (the user since deleted).
 */
const producerResolver = (
  overrides: Readonly<Record<string, string>> = {},
): Pick<UserResolver, 'resolve'> => ({
  resolve: async (_connection, change) => {
    const externalId = change.subject.externalId ?? '';
    const userId = overrides[externalId] ?? SEED_USER_IDS[externalId];
    if (userId === undefined) throw new Error(`no seed user ${externalId}`);
    return userId;
  },
});

/** A message as the producer wrote it before it resolved users: no userId, grouped by lookup key. */
const oldStyleMessage = (change: TestChange): { body: string; groupId: string } => {
  const { userId: _none, ...envelope }: QueueEnvelope = toEnvelope(
    { id: 'clerk-queued', resolve: { by: 'indexedAttribute', index: 1 } },
    planned(change),
    { receivedAt: new Date().toISOString() },
  );
  return {
    body: JSON.stringify(envelope),
    groupId: `clerk-queued:externalId:${change.externalId ?? 'ext-alice'}`,
  };
};

/** The CIAM calls that look a user up (rather than read or write one by its id). */
const LOOKUPS = new Set(['DescribeUser', 'ListUserByProperty']);

describe('queue/consumer (createHandler with local FIFO queues and the CIAM emulator)', () => {
  const emulator = useEmulator({}, { resetBeforeEach: true });

  const harness = (
    options: {
      deadLetterQueue?: (dlq: LocalFifoQueue) => QueuePort;
      /** The Tencent client's per-attempt timeout, to let an attempt be abandoned. */
      ciamTimeoutMs?: number;
      /** Users the producer's lookup gets wrong (a cached id of a user deleted since). */
      staleLookups?: Readonly<Record<string, string>>;
    } = {},
  ): Harness => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const deadLetterQueue = createLocalFifoQueue({
      name: 'changes-dlq.fifo',
      now,
      visibilityTimeoutSeconds: 30,
    });
    const queue = createLocalFifoQueue({
      name: 'changes.fifo',
      now,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
      deadLetterQueue,
    });
    const visibility: Harness['visibility'] = [];
    const recordingQueue: QueuePort = {
      send: (message, sendOptions) => queue.send(message, sendOptions),
      changeVisibility: async (receiptHandle, seconds) => {
        visibility.push({ receiptHandle, seconds });
        await queue.changeVisibility(receiptHandle, seconds);
      },
    };
    const outcomes: Outcome[] = [];
    const runtime = createRuntime(runtimeEnv(emulator().url), {
      readFile:
        options.ciamTimeoutMs === undefined
          ? readConfig
          : () =>
              JSON.stringify({
                ...CONFIG,
                ciam: { ...CONFIG.ciam, timeoutMs: options.ciamTimeoutMs },
              }),
      queue: recordingQueue,
      deadLetterQueue: options.deadLetterQueue?.(deadLetterQueue) ?? deadLetterQueue,
      recordOutcome: (connectionId, outcome, count) =>
        outcomes.push({ connectionId, outcome, count }),
    });
    // No jitter: the n-th receive is delayed exactly 30 s × 2^(n−1).
    const deps: QueueDeps = { ...queueDeps(runtime), random: () => 0 };
    const handler = createHandler(deps);
    const connection = runtime.config.connections.find((c) => c.id === 'clerk-queued');
    if (connection === undefined) throw new Error('clerk-queued is not configured');
    const deliver = createQueuedDelivery({
      queue,
      resolver: producerResolver(options.staleLookups),
      now,
    });
    let raw = 0;
    return {
      queue,
      deadLetterQueue,
      deps,
      handler,
      connection,
      outcomes,
      visibility,
      advance: (seconds) => {
        offsetMs += seconds * 1000;
      },
      produce: async (change, target = connection) => {
        const { results } = await deliver(target, [planned(change)], {});
        const result = results[0];
        if (result?.status !== 'queued') throw new Error('not queued');
        return result.messageId;
      },
      sendRaw: async (body, groupId = 'clerk-queued:externalId:ext-raw') => {
        raw += 1;
        return (await queue.send({ body, groupId, deduplicationId: `raw-${raw}` })).messageId;
      },
      poll: async (context = fakeContext()) => {
        const messages = queue.receive();
        const response = (await handler(
          queue.toSqsEvent(messages, { queueArn: QUEUE_ARN, region: REGION }),
          context,
        )) as SQSBatchResponse;
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const message of messages) {
          if (!failed.has(message.messageId)) queue.delete(message.receiptHandle);
        }
        return { messages, response };
      },
    };
  };

  const user = (userId: string) => emulator().store.getUser(STORE, userId);
  const updateUserCalls = () => emulator().calls.filter((c) => c.action === 'UpdateUser');

  it('applies a valid change and acknowledges it', async () => {
    const h = harness();
    await h.produce({ eventId: 'evt-1', nickname: 'Queued Alice' });

    const { response } = await h.poll();

    expect(response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Queued Alice');
    expect(h.outcomes).toEqual([{ connectionId: 'clerk-queued', outcome: 'applied', count: 1 }]);
    expect(h.queue.stats().total).toBe(0);
    expect(h.deadLetterQueue.stats().total).toBe(0);
  });

  it('applies a change to the user its envelope names, without looking the user up', async () => {
    const h = harness();
    await h.produce({ eventId: 'evt-1', nickname: 'Named' });
    expect(h.queue.peek().map((m) => m.groupId)).toEqual(['local-store:demo-user-1']);

    expect((await h.poll()).response).toEqual(emptyResponse);

    expect(user('demo-user-1')?.Nickname).toBe('Named');
    expect(emulator().calls.map((c) => c.action)).toEqual(['DescribeUserById', 'UpdateUser']);
  });

  it('still looks up the user of a message queued under the old grouping (no userId)', async () => {
    const h = harness();
    const old = oldStyleMessage({ eventId: 'evt-old-style', nickname: 'Old style' });
    await h.sendRaw(old.body, old.groupId);

    expect((await h.poll()).response).toEqual(emptyResponse);

    expect(user('demo-user-1')?.Nickname).toBe('Old style');
    expect(emulator().calls.map((c) => c.action)).toEqual([
      'DescribeUser',
      'DescribeUserById',
      'UpdateUser',
    ]);
    expect(h.outcomes).toEqual([{ connectionId: 'clerk-queued', outcome: 'applied', count: 1 }]);
  });

  it('looks the user up again when the user its envelope names no longer exists', async () => {
    // The producer's cached lookup named a user deleted since; CIAM's lookup finds the live one.
    const h = harness({ staleLookups: { 'ext-alice': 'deleted-user' } });
    await h.produce({ eventId: 'evt-moved', nickname: 'Found again' });

    expect((await h.poll()).response).toEqual(emptyResponse);

    expect(user('demo-user-1')?.Nickname).toBe('Found again');
    expect(emulator().calls.filter((c) => LOOKUPS.has(c.action))).toHaveLength(1);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['applied']);
  });

  it('drains old-group messages beside new ones: the newest change of the user wins', async () => {
    const h = harness();
    // Queued before the deployment: the newer change, in the old group.
    const old = oldStyleMessage({
      eventId: 'evt-before',
      occurredAt: '2025-03-01T10:00:00.000Z',
      nickname: 'Newer, old group',
    });
    await h.sendRaw(old.body, old.groupId);
    // Queued after it: an older change of the same user, in the user's new group.
    await h.produce({
      eventId: 'evt-after',
      occurredAt: '2025-03-01T09:00:00.000Z',
      nickname: 'Older, new group',
    });
    expect(h.queue.peek().map((m) => m.groupId)).toEqual([
      'clerk-queued:externalId:ext-alice',
      'local-store:demo-user-1',
    ]);

    expect((await h.poll()).response).toEqual(emptyResponse);

    expect(user('demo-user-1')?.Nickname).toBe('Newer, old group');
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['applied', 'stale']);
    expect(h.queue.stats().total).toBe(0);
  });

  it('ignores a stale change without calling UpdateUser when a newer one was applied', async () => {
    const h = harness();
    await h.produce({
      eventId: 'evt-new',
      occurredAt: '2025-03-01T10:00:00.000Z',
      nickname: 'Newer',
    });
    await h.produce({
      eventId: 'evt-old',
      occurredAt: '2025-03-01T09:00:00.000Z',
      nickname: 'Older',
    });

    const { response } = await h.poll();

    expect(response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Newer');
    expect(updateUserCalls()).toHaveLength(1);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['applied', 'stale']);
    expect(h.queue.stats().total).toBe(0);
  });

  it('dead-letters a broken envelope at once with the reason, and acknowledges it', async () => {
    const h = harness();
    const messageId = await h.sendRaw('{"v":1,"not":"an envelope"');

    const { messages, response } = await h.poll();

    expect(response).toEqual(emptyResponse);
    expect(h.queue.stats().total).toBe(0);
    const [letter, ...rest] = h.deadLetterQueue.peek();
    expect(rest).toEqual([]);
    expect(letter).toMatchObject({
      body: '{"v":1,"not":"an envelope"',
      groupId: 'clerk-queued:externalId:ext-raw',
      deduplicationId: messageId,
    });
    expect(letter?.attributes).toEqual({
      errorCode: 'MESSAGE_INVALID',
      attempts: '1',
      firstErrorAt: new Date(messages[0]?.firstReceiveTimestamp ?? 0).toISOString(),
      lastErrorAt: expect.stringMatching(ISO),
      reason: 'MESSAGE_INVALID: The queued message is not a valid envelope: body is not JSON',
    });
    expect(h.outcomes).toEqual([{ connectionId: 'unknown', outcome: 'MESSAGE_INVALID', count: 1 }]);
    expect(emulator().calls).toEqual([]);
  });

  it('names connection and event in the dead letter when an invalid envelope still has them', async () => {
    const h = harness();
    const body = JSON.stringify({
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'evt-bad',
      eventType: 'user.updated',
      occurredAt: '2025-03-01T10:00:00.000Z',
      receivedAt: '2025-03-01T10:00:01.000Z',
      subject: { externalId: 'ext-alice' },
      draft: { UserStoreId: STORE, Nickname: 42 },
    });
    await h.sendRaw(body);

    expect((await h.poll()).response).toEqual(emptyResponse);

    expect(h.deadLetterQueue.peek()[0]?.attributes).toMatchObject({
      errorCode: 'MESSAGE_INVALID',
      connectionId: 'clerk-queued',
      eventId: 'evt-bad',
      reason: expect.stringContaining('draft is not a valid UpdateUser draft'),
    });
    expect(user('demo-user-1')?.Nickname).toBeUndefined();
  });

  it('dead-letters a change for a connection that is not configured', async () => {
    const h = harness();
    const messageId = await h.produce(
      { eventId: 'evt-gone', nickname: 'Nobody' },
      { ...h.connection, id: 'removed-connection' },
    );

    expect((await h.poll()).response).toEqual(emptyResponse);

    const [letter] = h.deadLetterQueue.peek();
    expect(letter?.deduplicationId).toBe(messageId);
    expect(letter?.attributes).toMatchObject({
      errorCode: 'CONNECTION_NOT_FOUND',
      connectionId: 'removed-connection',
      eventId: 'evt-gone',
      attempts: '1',
      reason: 'CONNECTION_NOT_FOUND: No connection removed-connection is configured',
    });
    expect(emulator().calls).toEqual([]);
  });

  it('dead-letters a permanent upstream error with Tencent code and request id', async () => {
    const h = harness();
    emulator().faults.configure({
      script: ['FailedOperation.EmailAlreadyExists'],
      actions: ['UpdateUser'],
    });
    const messageId = await h.produce({ eventId: 'evt-conflict', nickname: 'Taken' });

    const { response } = await h.poll();

    expect(response).toEqual(emptyResponse);
    expect(h.queue.stats().total).toBe(0);
    expect(updateUserCalls()).toHaveLength(1);
    const [letter] = h.deadLetterQueue.peek();
    expect(letter?.deduplicationId).toBe(messageId);
    expect(letter?.groupId).toBe('local-store:demo-user-1');
    expect(JSON.parse(letter?.body ?? '{}')).toMatchObject({
      eventId: 'evt-conflict',
      draft: { Nickname: 'Taken' },
    });
    expect(letter?.attributes).toEqual({
      errorCode: 'UPSTREAM_CONFLICT',
      upstreamCode: 'FailedOperation.EmailAlreadyExists',
      upstreamRequestId: expect.stringMatching(/.+/),
      attempts: '1',
      firstErrorAt: expect.stringMatching(ISO),
      lastErrorAt: expect.stringMatching(ISO),
      connectionId: 'clerk-queued',
      eventId: 'evt-conflict',
      reason:
        'UPSTREAM_CONFLICT: Tencent UpdateUser failed with FailedOperation.EmailAlreadyExists',
    });
    expect(h.outcomes).toEqual([
      { connectionId: 'clerk-queued', outcome: 'UPSTREAM_CONFLICT', count: 1 },
    ]);
  });

  it('fails a retryable change, delays it by its receive count and keeps it out of the DLQ', async () => {
    const h = harness();
    // Three attempts: every one the Tencent client makes within one receive.
    emulator().faults.configure({
      script: ['InternalError', 'http502', 'InternalError', 'InternalError', 'http502', 'http502'],
      actions: ['UpdateUser'],
    });
    const messageId = await h.produce({ eventId: 'evt-flaky', nickname: 'Eventually' });

    const first = await h.poll();
    expect(first.response).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(h.visibility).toEqual([
      { receiptHandle: first.messages[0]?.receiptHandle, seconds: 30 },
    ]);
    expect(h.deadLetterQueue.stats().total).toBe(0);
    expect(h.outcomes).toEqual([
      { connectionId: 'clerk-queued', outcome: 'UPSTREAM_UNAVAILABLE', count: 1 },
    ]);

    h.advance(29);
    expect(h.queue.receive()).toEqual([]);
    h.advance(1);
    const second = await h.poll();
    expect(second.messages.map((m) => [m.messageId, m.receiveCount])).toEqual([[messageId, 2]]);
    expect(second.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(h.visibility[1]?.seconds).toBe(60);

    h.advance(60);
    const third = await h.poll();
    expect(third.response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Eventually');
    expect(h.queue.stats().total).toBe(0);
    expect(h.deadLetterQueue.stats().total).toBe(0);
  });

  it('holds the user after a write whose abandoned attempt may land late, then acknowledges it', async () => {
    const h = harness({ ciamTimeoutMs: 150 });
    // The first UpdateUser attempt is abandoned by the client but still applied by CIAM later.
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 400 }],
      actions: ['UpdateUser'],
    });
    const first = await h.produce({
      eventId: 'evt-1',
      occurredAt: '2025-01-01T00:00:01.000Z',
      nickname: 'First',
    });
    const second = await h.produce({
      eventId: 'evt-2',
      occurredAt: '2025-01-01T00:00:02.000Z',
      nickname: 'Second',
    });

    const held = await h.poll();
    // One write carried both changes; its outcome is unknown, so both are held together.
    expect(held.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([first, second]);
    expect(h.visibility).toEqual([
      { receiptHandle: held.messages[0]?.receiptHandle, seconds: 60 },
      { receiptHandle: held.messages[1]?.receiptHandle, seconds: 60 },
    ]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['superseded', 'applied']);
    // The abandoned attempt is still in CIAM's hands; let it land before the next change goes out.
    await emulator().idle();
    // The retry and, late, the abandoned attempt: both wrote the same coalesced request.
    expect(updateUserCalls().filter((c) => c.code === undefined)).toHaveLength(2);
    expect(user('demo-user-1')?.Nickname).toBe('Second');
    h.advance(60);
    const next = await h.poll();
    expect(next.response).toEqual(emptyResponse);
    expect(next.messages.map((m) => m.messageId)).toEqual([first, second]);
    // Redelivered, each finds the write on the user's clocks: overtaken, then its own.
    expect(h.outcomes.slice(2).map((o) => o.outcome)).toEqual(['stale', 'duplicate']);
    expect(user('demo-user-1')?.Nickname).toBe('Second');
    expect(h.deadLetterQueue.stats().total).toBe(0);
  });

  it("applies a user's queued changes of one batch as one read and one write", async () => {
    const h = harness();
    for (const [n, nickname] of ['One', 'Two', 'Three'].entries()) {
      await h.produce({
        eventId: `evt-${n}`,
        occurredAt: `2025-01-01T00:00:0${n + 1}.000Z`,
        nickname,
      });
    }
    // Out of event-time order: the newest already queued wins, this one is stale on its field.
    await h.produce({
      eventId: 'evt-old',
      occurredAt: '2024-12-31T00:00:00.000Z',
      nickname: 'Old',
    });

    const { messages, response } = await h.poll();

    expect(messages).toHaveLength(4);
    expect(response).toEqual(emptyResponse);
    expect(emulator().calls.map((c) => c.action)).toEqual(['DescribeUserById', 'UpdateUser']);
    expect(user('demo-user-1')?.Nickname).toBe('Three');
    expect(h.outcomes.map((o) => o.outcome)).toEqual([
      'superseded',
      'superseded',
      'applied',
      'stale',
    ]);
  });

  it('retries every record of a failed coalesced write, in order', async () => {
    const h = harness();
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['UpdateUser'] });
    const ids: string[] = [];
    for (const [n, nickname] of ['One', 'Two', 'Three'].entries()) {
      ids.push(
        await h.produce({
          eventId: `evt-${n}`,
          occurredAt: `2025-01-01T00:00:0${n + 1}.000Z`,
          nickname,
        }),
      );
    }

    const failed = await h.poll();

    expect(failed.response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(ids);
    // The first waits its backoff; the others, carried by the same write, wait behind it.
    expect(h.visibility.map((v) => v.seconds)).toEqual([30, 0, 0]);
    expect(updateUserCalls().every((c) => c.code !== undefined)).toBe(true);
    expect(user('demo-user-1')?.Nickname).toBeUndefined();
    expect(h.queue.receive()).toEqual([]);

    emulator().faults.clear();
    h.advance(30);
    const again = await h.poll();
    expect(again.messages.map((m) => [m.messageId, m.receiveCount])).toEqual(
      ids.map((id) => [id, 2]),
    );
    expect(again.response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Three');
    expect(h.outcomes.map((o) => o.outcome)).toEqual([
      'UPSTREAM_UNAVAILABLE',
      'superseded',
      'superseded',
      'applied',
    ]);
    expect(h.queue.stats().total).toBe(0);
  });

  it('acknowledges a duplicate of a coalesced set as such and applies the others', async () => {
    const h = harness();
    const change = { eventId: 'evt-1', occurredAt: '2025-01-01T00:00:01.000Z', nickname: 'One' };
    await h.produce(change);
    expect((await h.poll()).response).toEqual(emptyResponse);
    // Past SQS's 5-minute deduplication window the sender's retry of evt-1 is queued again, now
    // in one batch with a change to another field and a newer nickname.
    h.advance(301);
    const calls = emulator().calls.length;
    await h.produce(change);
    await h.produce({ eventId: 'evt-2', occurredAt: '2025-01-01T00:00:02.000Z', nickname: 'Two' });

    const { messages, response } = await h.poll();

    expect(messages).toHaveLength(2);
    expect(response).toEqual(emptyResponse);
    expect(
      emulator()
        .calls.slice(calls)
        .map((c) => c.action),
    ).toEqual(['DescribeUserById', 'UpdateUser']);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['applied', 'duplicate', 'applied']);
    expect(user('demo-user-1')?.Nickname).toBe('Two');
  });

  it('dead-letters a change skipped behind a failure on its last receive as never attempted', async () => {
    const h = harness();
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['UpdateUser'] });
    const failing = await h.produce({ eventId: 'evt-a', nickname: 'Alice' });
    const skipped = await h.produce({ eventId: 'evt-b', nickname: 'Alice again' });
    const event = h.queue.toSqsEvent(h.queue.receive(), { queueArn: QUEUE_ARN, region: REGION });
    const tail = event.Records[1];
    if (tail === undefined) throw new Error('two records expected');
    // The second record is on its last allowed receive (it came back from a redrive, say) and
    // names another connection, so the first one's write does not carry it.
    tail.attributes.ApproximateReceiveCount = '5';
    tail.body = JSON.stringify({ ...JSON.parse(tail.body), connectionId: 'clerk-elsewhere' });

    const response = (await h.handler(event, fakeContext())) as SQSBatchResponse;

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: failing }] });
    expect(h.deadLetterQueue.peek()).toHaveLength(1);
    const [letter] = h.deadLetterQueue.peek();
    expect(letter?.deduplicationId).toBe(skipped);
    expect(letter?.attributes).toMatchObject({
      errorCode: 'UPSTREAM_UNAVAILABLE',
      attempted: 'false',
      attempts: '5',
      reason: 'skipped behind a failing record of its group; never attempted',
    });
    // It was never tried: the only read is the failing record's.
    expect(emulator().calls.filter((c) => c.action === 'DescribeUserById')).toHaveLength(1);
  });

  it("does not hold another user's records when one user's write is held", async () => {
    const h = harness({ ciamTimeoutMs: 150 });
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 400 }],
      actions: ['UpdateUser'],
    });
    const alice = await h.produce({ eventId: 'evt-a', nickname: 'Alice held' });
    const bob = await h.produce({ eventId: 'evt-b', externalId: 'ext-bob', nickname: 'Bob' });

    const { messages, response } = await h.poll();

    expect(messages.map((m) => m.messageId)).toEqual([alice, bob]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: alice }] });
    expect(h.visibility.map((v) => v.seconds)).toEqual([60]);
    expect(user('demo-user-2')?.Nickname).toBe('Bob');
    expect(h.queue.stats()).toMatchObject({ total: 1, inFlight: 1 });
    await emulator().idle();
  });

  it('retries a write whose outcome is unknown after the settle time, not the DLQ', async () => {
    const h = harness({ ciamTimeoutMs: 150 });
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 400 }, 'InvalidParameterValue'],
      actions: ['UpdateUser'],
    });
    const messageId = await h.produce({ eventId: 'evt-unknown', nickname: 'Landed' });
    const first = await h.poll();
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: messageId }]);
    expect(h.visibility[0]?.seconds).toBe(60);
    expect(h.deadLetterQueue.stats().total).toBe(0);
    expect(h.outcomes).toContainEqual({
      connectionId: 'clerk-queued',
      outcome: 'UPSTREAM_OUTCOME_UNKNOWN',
      count: 1,
    });

    // The abandoned attempt lands after all; the retry after the settle time must find it applied.
    await emulator().idle();
    expect(updateUserCalls().filter((c) => c.fault === 'latency' && c.code === undefined)).toEqual([
      expect.objectContaining({ action: 'UpdateUser' }),
    ]);
    h.advance(60);
    const second = await h.poll();
    expect(second.response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Landed');
    expect(h.outcomes.at(-1)).toEqual({
      connectionId: 'clerk-queued',
      outcome: 'duplicate',
      count: 1,
    });
  });

  it('dead-letters a retryable failure with its reason on the last allowed receive', async () => {
    const h = harness();
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['UpdateUser'] });
    const messageId = await h.produce({ eventId: 'evt-doomed', nickname: 'Never' });

    const failures: unknown[] = [];
    let firstReceivedAt: number | undefined;
    for (let receive = 1; receive <= 4; receive += 1) {
      const { messages, response } = await h.poll();
      firstReceivedAt ??= messages[0]?.firstReceiveTimestamp;
      failures.push(...response.batchItemFailures);
      h.advance(backoffSeconds(receive, () => 0));
    }
    const last = await h.poll();

    expect(failures).toHaveLength(4);
    expect(h.visibility.map((v) => v.seconds)).toEqual([30, 60, 120, 240]);
    expect(last.messages[0]?.receiveCount).toBe(5);
    expect(last.response).toEqual(emptyResponse);
    expect(h.queue.stats().total).toBe(0);
    const [letter] = h.deadLetterQueue.peek();
    expect(letter?.deduplicationId).toBe(messageId);
    expect(letter?.attributes).toMatchObject({
      errorCode: 'UPSTREAM_UNAVAILABLE',
      upstreamCode: 'InternalError',
      attempts: '5',
      firstErrorAt: new Date(firstReceivedAt ?? 0).toISOString(),
      reason: 'UPSTREAM_UNAVAILABLE: Tencent UpdateUser failed with InternalError',
    });
    expect(user('demo-user-1')?.Nickname).toBeUndefined();
  });

  it("fails a failed group's later records but applies other groups of the batch", async () => {
    const h = harness();
    emulator().faults.configure({
      script: ['InternalError', 'InternalError', 'InternalError'],
      actions: ['UpdateUser'],
    });
    const aliceFirst = await h.produce({
      eventId: 'evt-a1',
      occurredAt: '2025-01-01T00:00:01.000Z',
      nickname: 'Alice 1',
    });
    const aliceSecond = await h.produce({
      eventId: 'evt-a2',
      occurredAt: '2025-01-01T00:00:02.000Z',
      nickname: 'Alice 2',
    });
    await h.produce({ eventId: 'evt-b1', externalId: 'ext-bob', nickname: 'Bob 1' });

    const { messages, response } = await h.poll();

    expect(messages).toHaveLength(3);
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: aliceFirst }, { itemIdentifier: aliceSecond }],
    });
    expect(user('demo-user-2')?.Nickname).toBe('Bob 1');
    expect(user('demo-user-1')?.Nickname).toBeUndefined();
    // The failed record is delayed by its backoff; the skipped one is released at once, yet the
    // FIFO group keeps it behind the failed one, then both come back in order.
    expect(h.visibility.map((v) => v.seconds)).toEqual([30, 0]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['UPSTREAM_UNAVAILABLE', 'applied']);
    expect(h.queue.receive()).toEqual([]);
    h.advance(30);
    const again = await h.poll();
    expect(again.messages.map((m) => m.messageId)).toEqual([aliceFirst, aliceSecond]);
    expect(again.response).toEqual(emptyResponse);
    expect(user('demo-user-1')?.Nickname).toBe('Alice 2');
  });

  it('fails the record when the dead-letter queue does not store it', async () => {
    const h = harness({
      deadLetterQueue: (dlq) => ({
        send: async () => {
          throw new Error('SQS is down');
        },
        changeVisibility: (handle, seconds) => dlq.changeVisibility(handle, seconds),
      }),
    });
    const messageId = await h.sendRaw('not json');

    const { response } = await h.poll();

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(h.queue.stats()).toMatchObject({ total: 1, inFlight: 1 });
    expect(h.deadLetterQueue.stats().total).toBe(0);
  });

  it('waits the settle time when the deadline cuts off a write that may still land', async () => {
    const h = harness();
    emulator().faults.configure({
      script: [{ kind: 'latency', latencyMs: 2500 }],
      actions: ['UpdateUser'],
    });
    const messageId = await h.produce({ eventId: 'evt-cut', nickname: 'Cut off' });

    // 1 s of budget after the 2 s margin: ample for the read, while the write is held 2.5 s.
    const { response } = await h.poll(fakeContext({ remainingMs: 3000 }));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    // Not the plain 30 s backoff: the cut-off write must have landed before the retry reads.
    expect(h.visibility.map((v) => v.seconds)).toEqual([60]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['UPSTREAM_OUTCOME_UNKNOWN']);
    await emulator().idle();
    expect(user('demo-user-1')?.Nickname).toBe('Cut off');
  });

  it('fails the record without calling CIAM when the invocation has no time left', async () => {
    const h = harness();
    const messageId = await h.produce({ eventId: 'evt-late', nickname: 'Late' });

    const { response } = await h.poll(fakeContext({ remainingMs: 1500 }));

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
    expect(emulator().calls).toEqual([]);
    expect(h.visibility.map((v) => v.seconds)).toEqual([30]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(['DEADLINE_EXCEEDED']);
  });
});

describe('queue/handler over the SQS SDK', () => {
  const emulator = useEmulator({}, { resetBeforeEach: true });
  const sqs = mockClient(SQSClient);
  beforeEach(() => sqs.reset());
  afterEach(() => sqs.reset());

  it('sends ChangeMessageVisibility for a retry and SendMessage to the DLQ for a dead letter', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'dlq-1', SequenceNumber: '1' });
    const overrides: RuntimeOverrides = {
      readFile: readConfig,
      sqsClient: new SQSClient({ region: REGION }),
    };
    const runtime = createRuntime(
      runtimeEnv(emulator().url, { QUEUE_URL, DLQ_URL, QUEUE_MAX_RECEIVE_COUNT: '5' }),
      overrides,
    );
    const at = Date.parse('2025-03-01T10:00:05.000Z');
    const handler = createHandler({ ...queueDeps(runtime), now: () => at, random: () => 0 });
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['UpdateUser'] });

    // The local queue only shapes the records here; the consumer talks to SQS through the SDK.
    const local = createLocalFifoQueue({
      name: 'changes.fifo',
      now: () => Date.parse('2025-03-01T10:00:00.000Z'),
      visibilityTimeoutSeconds: 30,
    });
    const connection = runtime.config.connections.find((c) => c.id === 'clerk-queued');
    if (connection === undefined) throw new Error('clerk-queued is not configured');
    await createQueuedDelivery({ queue: local, resolver: producerResolver(), now: Date.now })(
      connection,
      [planned({ eventId: 'evt-retry', nickname: 'Retry' })],
      {},
    );
    await local.send({ body: 'garbage', groupId: 'other-group', deduplicationId: 'd-garbage' });
    const [retried, broken] = local.receive();
    if (retried === undefined || broken === undefined) throw new Error('two messages expected');

    const response = await handler(
      local.toSqsEvent([retried, { ...broken, receiveCount: 3 }], {
        queueArn: QUEUE_ARN,
        region: REGION,
      }),
      fakeContext(),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: retried.messageId }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: retried.receiptHandle, VisibilityTimeout: 30 },
    ]);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: DLQ_URL,
        MessageBody: 'garbage',
        MessageGroupId: 'other-group',
        MessageDeduplicationId: broken.messageId,
        MessageAttributes: {
          errorCode: { DataType: 'String', StringValue: 'MESSAGE_INVALID' },
          attempts: { DataType: 'String', StringValue: '3' },
          firstErrorAt: { DataType: 'String', StringValue: '2025-03-01T10:00:00.000Z' },
          lastErrorAt: { DataType: 'String', StringValue: '2025-03-01T10:00:05.000Z' },
          reason: {
            DataType: 'String',
            StringValue:
              'MESSAGE_INVALID: The queued message is not a valid envelope: body is not JSON',
          },
        },
      },
    ]);
  });
});

describe('queueDeps', () => {
  const env = runtimeEnv('http://127.0.0.1:9');
  const sqsClient = new SQSClient({ region: REGION });

  it('throws CONFIG_INVALID at cold start when QUEUE_URL or DLQ_URL is missing', () => {
    for (const extra of [{ QUEUE_URL }, { DLQ_URL }, {}]) {
      const runtime = createRuntime({ ...env, ...extra }, { readFile: readConfig, sqsClient });
      expect(() => queueDeps(runtime)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('maps every configured connection to its apply target with the stale-event guard', () => {
    const deps = queueDeps(
      createRuntime({ ...env, QUEUE_URL, DLQ_URL }, { readFile: readConfig, sqsClient }),
    );
    expect([...deps.connections.keys()]).toEqual([
      'clerk',
      'clerk-queued',
      'workos',
      'auth0',
      'hmac',
      'scim',
      // The second tenant's store: its own clocks group, after the default tenant's.
      'acme-hmac',
    ]);
    expect(deps.connections.get('acme-hmac')?.guard?.legacy.map((mark) => mark.attribute)).toEqual([
      'adapter_watermark_acme_hmac',
    ]);
    // The user store's clocks, this connection's tag, and every connection's earlier marks.
    const guard = deps.connections.get('clerk-queued')?.guard;
    expect(guard).toMatchObject({
      attribute: 'adapter_field_clocks',
      type: 'STRING',
      connection: connectionTag('clerk-queued'),
    });
    expect(guard?.legacy.map((mark) => mark.attribute)).toContain('adapter_watermark_clerk_queued');
    expect(guard?.authorityOf('PhoneNumber')).toBeUndefined();
    expect(deps.settings).toEqual({ maxReceiveCount: 5, settleSeconds: 60 });
  });

  it('reads maxReceiveCount from QUEUE_MAX_RECEIVE_COUNT and refuses a value SQS would not take', () => {
    const make = (value: string) =>
      createRuntime(
        { ...env, QUEUE_URL, DLQ_URL, QUEUE_MAX_RECEIVE_COUNT: value },
        { readFile: readConfig, sqsClient },
      );
    expect(queueDeps(make('8')).settings).toEqual({ maxReceiveCount: 8, settleSeconds: 60 });
    for (const bad of ['0', '1001', '2.5', 'five']) {
      expect(() => make(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });
});

describe('queue/consumer backoffSeconds', () => {
  it('doubles from 30 s per receive and stops at 15 minutes without jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffSeconds(n, () => 0))).toEqual([
      30, 60, 120, 240, 480, 900, 900, 900,
    ]);
  });

  it('stays within 80–100 % of the delay for any jitter, and never grows past the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (receiveCount, draw) => {
          const base = backoffSeconds(receiveCount, () => 0);
          const seconds = backoffSeconds(receiveCount, () => draw);
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
          expect(seconds).toBeLessThanOrEqual(base);
          expect(seconds).toBeLessThanOrEqual(900);
        },
      ),
    );
  });
});
