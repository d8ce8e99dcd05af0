import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { loadSeed } from '../../emulator/server.ts';
import type { PlannedUpdate } from '../../lib/ciam/apply.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import { createUserResolver } from '../../lib/ciam/resolve.ts';
import type { Connection } from '../../lib/config/types.ts';
import { deduplicationId, parseEnvelope, userGroupId } from '../../lib/queue/envelope.ts';
import { createQueuedDelivery, MAX_ENVELOPE_BYTES } from '../../lib/queue/producer.ts';
import { createSqsQueue } from '../../lib/queue/sqs.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;
const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo';

// Two users sharing IndexedAttribute1 "ext-twin": a lookup by it is ambiguous.
const seed = loadSeed('emulator/seed.json');
const users = seed.userStores[0]?.Users;
if (users === undefined) throw new Error('seed without users');
users.push({ UserId: 'twin-1', UserName: 'twin1', IndexedAttribute1: 'ext-twin' });
users.push({ UserId: 'twin-2', UserName: 'twin2', IndexedAttribute1: 'ext-twin' });

const byExternalId: Connection = {
  id: 'clerk-queued',
  source: 'standard-webhooks',
  userStoreId: STORE,
  secrets: { signing: [{ name: 'x' }] },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'queued',
  options: {},
};
const byEmail: Connection = { ...byExternalId, id: 'workos-queued', resolve: { by: 'email' } };
const byUserId: Connection = { ...byExternalId, id: 'hmac-queued', resolve: { by: 'userId' } };

/** Alice (demo-user-1) as each connection names her, plus whatever `subject` replaces. */
const planned = (
  eventId: string,
  subject: PlannedUpdate['change']['subject'] = {},
  nickname = 'A',
): PlannedUpdate => ({
  change: {
    eventId,
    eventType: 'user.updated',
    occurredAt: '2025-01-01T00:00:00.000Z',
    subject: { externalId: 'ext-alice', email: 'alice@example.com', ...subject },
  },
  draft: { UserStoreId: STORE, Nickname: nickname },
});

describe('queue/producer: one FIFO group per CIAM user (SQS SDK faked, CIAM emulated)', () => {
  const emulator = useEmulator({ seed }, { resetBeforeEach: true });

  const setup = () => {
    const client = new SQSClient({ region: 'ap-southeast-1' });
    const sqs = mockClient(client);
    let sent = 0;
    sqs.on(SendMessageCommand).callsFake(async () => {
      sent += 1;
      return { MessageId: `m-${sent}` };
    });
    sqs.on(SendMessageBatchCommand).callsFake(async ({ Entries = [] }) => ({
      Successful: Entries.map(({ Id }: SendMessageBatchRequestEntry) => {
        sent += 1;
        return { Id, MessageId: `m-${sent}`, MD5OfMessageBody: '' };
      }),
      Failed: [],
    }));
    const ciam = createCiamClient(
      createTencentClient({
        fetch,
        now: Date.now,
        endpoint: emulator().url,
        credentials: { get: async () => EMULATOR_CREDENTIALS, invalidate: () => {} },
        random: () => 0,
      }),
    );
    const deliver = createQueuedDelivery({
      queue: createSqsQueue({ client, queueUrl: QUEUE_URL }),
      resolver: createUserResolver({ ciam, now: Date.now }),
      now: () => Date.parse('2025-01-01T00:00:01.000Z'),
    });
    /** Every message sent, one by one or in batches, as a SendMessage input, in order. */
    const inputs = () =>
      sqs.calls().flatMap((call) => {
        const command = call.args[0];
        if (command instanceof SendMessageBatchCommand) {
          return (command.input.Entries ?? []).map(({ Id: _id, ...entry }) => ({
            QueueUrl: command.input.QueueUrl,
            ...entry,
          }));
        }
        return command instanceof SendMessageCommand ? [command.input] : [];
      });
    const batchCalls = () => sqs.commandCalls(SendMessageBatchCommand).length;
    const singleCalls = () => sqs.commandCalls(SendMessageCommand).length;
    const lookups = () =>
      emulator().calls.filter(
        (c) => c.action === 'DescribeUser' || c.action === 'ListUserByProperty',
      );
    return { deliver, inputs, lookups, batchCalls, singleCalls };
  };

  it('groups by user store and CIAM user, records the user in the envelope, dedups per event', async () => {
    const { deliver, inputs, lookups } = setup();

    const report = await deliver(byExternalId, [planned('e1'), planned('e2')], { traceId: 't-1' });

    expect(report.results).toEqual([
      { status: 'queued', eventId: 'e1', messageId: 'm-1' },
      { status: 'queued', eventId: 'e2', messageId: 'm-2' },
    ]);
    expect(inputs().map((input) => input.MessageGroupId)).toEqual([
      'local-store:demo-user-1',
      'local-store:demo-user-1',
    ]);
    expect(inputs()[0]).toMatchObject({
      QueueUrl: QUEUE_URL,
      MessageDeduplicationId: deduplicationId('clerk-queued', 'e1'),
      MessageAttributes: {
        connectionId: { DataType: 'String', StringValue: 'clerk-queued' },
        eventType: { DataType: 'String', StringValue: 'user.updated' },
      },
    });
    const body = String(inputs()[0]?.MessageBody);
    expect(JSON.parse(body)).toEqual({
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'e1',
      eventType: 'user.updated',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:01.000Z',
      traceId: 't-1',
      subject: { externalId: 'ext-alice' },
      userId: 'demo-user-1',
      draft: { UserStoreId: STORE, Nickname: 'A' },
    });
    expect(parseEnvelope(body).userId).toBe('demo-user-1');
    // The second change of the user is answered from the resolver's cache.
    expect(lookups()).toHaveLength(1);
  });

  it('sends a request of many changes in batches of 10, in order; a single change alone', async () => {
    const { deliver, inputs, batchCalls, singleCalls } = setup();
    const many = Array.from({ length: 23 }, (_, n) => planned(`e${n}`, {}, `N${n}`));

    const report = await deliver(byExternalId, many, {});

    expect(batchCalls()).toBe(3);
    expect(singleCalls()).toBe(0);
    expect(report.results.map((r) => r.eventId)).toEqual(many.map((p) => p.change.eventId));
    expect(report.results.map((r) => (r.status === 'queued' ? r.messageId : ''))).toEqual(
      many.map((_, n) => `m-${n + 1}`),
    );
    expect(inputs().map((input) => input.MessageDeduplicationId)).toEqual(
      many.map((p) => deduplicationId('clerk-queued', p.change.eventId)),
    );

    await deliver(byExternalId, [planned('single')], {});
    expect(singleCalls()).toBe(1);
    expect(batchCalls()).toBe(3);
  });

  it('answers QUEUE_UNAVAILABLE when a batch send stores only some changes', async () => {
    const client = new SQSClient({ region: 'ap-southeast-1' });
    mockClient(client)
      .on(SendMessageBatchCommand)
      .resolves({
        Successful: [{ Id: '0', MessageId: 'm-1', MD5OfMessageBody: '' }],
        Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
      });
    const deliver = createQueuedDelivery({
      queue: createSqsQueue({ client, queueUrl: QUEUE_URL }),
      resolver: createUserResolver({ ciam: setupCiamNever(), now: Date.now }),
      now: Date.now,
    });
    const subject = { ciamUserId: 'demo-user-1' };

    await expect(
      deliver(byUserId, [planned('e1', subject), planned('e2', subject)], {}),
    ).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE', retryable: true });
  });

  it('puts one user in one group whichever connection and lookup key the change came by', async () => {
    const { deliver, inputs } = setup();

    await deliver(byExternalId, [planned('e1')], {});
    await deliver(byEmail, [planned('e1')], {});
    await deliver(byUserId, [planned('e1', { ciamUserId: 'demo-user-1' })], {});

    const groups = inputs().map((input) => input.MessageGroupId);
    expect(groups).toEqual([
      userGroupId(STORE, 'demo-user-1'),
      userGroupId(STORE, 'demo-user-1'),
      userGroupId(STORE, 'demo-user-1'),
    ]);
    // Still one message per connection's event: the deduplication id keeps the connection.
    expect(new Set(inputs().map((input) => input.MessageDeduplicationId)).size).toBe(3);
  });

  it('gives different users different groups, and other stores other groups', async () => {
    const { deliver, inputs } = setup();

    await deliver(
      byEmail,
      [planned('e1'), planned('e2', { email: 'bob@example.com', externalId: 'ext-bob' })],
      {},
    );
    await deliver(
      { ...byUserId, userStoreId: 'other-store' },
      [planned('e3', { ciamUserId: 'demo-user-1' })],
      {},
    );

    expect(inputs().map((input) => input.MessageGroupId)).toEqual([
      'local-store:demo-user-1',
      'local-store:demo-user-2',
      'other-store:demo-user-1',
    ]);
  });

  it('asks CIAM nothing for a connection that resolves by userId', async () => {
    const { deliver, inputs } = setup();

    await deliver(byUserId, [planned('e1', { ciamUserId: 'demo-user-3' })], {});

    expect(emulator().calls).toEqual([]);
    expect(inputs()[0]?.MessageGroupId).toBe('local-store:demo-user-3');
    expect(parseEnvelope(String(inputs()[0]?.MessageBody))).toMatchObject({
      subject: { ciamUserId: 'demo-user-3' },
      userId: 'demo-user-3',
    });
  });

  it.each([
    ['no user matches', byExternalId, { externalId: 'ext-nobody' }, 'USER_NOT_FOUND', 404],
    ['the change lacks the lookup key', byUserId, {}, 'USER_NOT_FOUND', 404],
    ['several users match', byExternalId, { externalId: 'ext-twin' }, 'USER_AMBIGUOUS', 409],
  ] as const)(
    'refuses the request and sends nothing when %s',
    async (_name, connection, subject, code, statusCode) => {
      const { deliver, inputs } = setup();

      // The first change of the batch resolves; nothing is sent, since the second does not.
      await expect(
        deliver(
          connection,
          [planned('ok', { ciamUserId: 'demo-user-1' }), planned('bad', subject)],
          {},
        ),
      ).rejects.toMatchObject({ code, statusCode, retryable: false });

      expect(inputs()).toEqual([]);
    },
  );

  it('answers 503 with Retry-After, and sends nothing, when CIAM cannot be asked', async () => {
    const { deliver, inputs } = setup();
    emulator().faults.configure({ rates: { InternalError: 1 }, actions: ['DescribeUser'] });

    await expect(deliver(byExternalId, [planned('e1')], {})).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      statusCode: 503,
      retryable: true,
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) },
    });

    expect(inputs()).toEqual([]);
  });

  it('answers QUEUE_UNAVAILABLE (503, retryable) when SQS does not store a change', async () => {
    const client = new SQSClient({ region: 'ap-southeast-1' });
    mockClient(client).on(SendMessageCommand).rejects(new Error('throttled'));
    const deliver = createQueuedDelivery({
      queue: createSqsQueue({ client, queueUrl: QUEUE_URL }),
      resolver: createUserResolver({ ciam: setupCiamNever(), now: Date.now }),
      now: Date.now,
    });

    await expect(
      deliver(byUserId, [planned('e1', { ciamUserId: 'demo-user-1' })], {}),
    ).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      statusCode: 503,
      retryable: true,
      headers: { 'retry-after': '5' },
    });
  });

  it('refuses a change too large to queue and dead-letter, without sending it', async () => {
    const { deliver, inputs } = setup();
    const huge = 'x'.repeat(MAX_ENVELOPE_BYTES);
    await expect(
      deliver(byExternalId, [planned('e1'), planned('e2', {}, huge)], {}),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
    expect(inputs()).toEqual([]);
  });
});

/** A CIAM that must not be asked: a connection resolving by userId never is. */
function setupCiamNever() {
  const never = () => Promise.reject(new Error('CIAM was asked'));
  return { listUserByProperty: never, describeUser: never };
}
