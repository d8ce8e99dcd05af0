import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { PlannedUpdate } from '../../lib/ciam/apply.ts';
import type { Connection } from '../../lib/config/types.ts';
import { deduplicationId, messageGroupId } from '../../lib/queue/envelope.ts';
import { createQueuedDelivery, MAX_ENVELOPE_BYTES } from '../../lib/queue/producer.ts';
import { createSqsQueue } from '../../lib/queue/sqs.ts';

const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo';
const connection: Connection = {
  id: 'clerk-queued',
  source: 'standard-webhooks',
  userStoreId: 'local-store',
  secrets: { signing: [{ name: 'x' }] },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'queued',
  options: {},
};
const planned = (eventId: string, nickname = 'A'): PlannedUpdate => ({
  change: {
    eventId,
    eventType: 'user.updated',
    occurredAt: '2025-01-01T00:00:00.000Z',
    subject: { externalId: 'ext-alice', email: 'alice@example.org' },
  },
  draft: { UserStoreId: 'local-store', Nickname: nickname },
});

const setup = () => {
  const client = new SQSClient({ region: 'ap-southeast-1' });
  const sqs = mockClient(client);
  const deliver = createQueuedDelivery({
    queue: createSqsQueue({ client, queueUrl: QUEUE_URL }),
    now: () => Date.parse('2025-01-01T00:00:01.000Z'),
  });
  return { sqs, deliver };
};

describe('queue/producer over the SQS SDK (client faked)', () => {
  it('sends one message per change: group per user, dedup per event, the envelope as body', async () => {
    const { sqs, deliver } = setup();
    sqs
      .on(SendMessageCommand)
      .resolvesOnce({ MessageId: 'm-1' })
      .resolvesOnce({ MessageId: 'm-2' });
    const report = await deliver(connection, [planned('e1'), planned('e2')], { traceId: 't-1' });
    expect(report.results).toEqual([
      { status: 'queued', eventId: 'e1', messageId: 'm-1' },
      { status: 'queued', eventId: 'e2', messageId: 'm-2' },
    ]);
    const inputs = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.MessageGroupId)).toEqual([
      messageGroupId('clerk-queued', { field: 'externalId', value: 'ext-alice' }),
      messageGroupId('clerk-queued', { field: 'externalId', value: 'ext-alice' }),
    ]);
    expect(inputs[0]).toMatchObject({
      QueueUrl: QUEUE_URL,
      MessageDeduplicationId: deduplicationId('clerk-queued', 'e1'),
      MessageAttributes: {
        connectionId: { DataType: 'String', StringValue: 'clerk-queued' },
        eventType: { DataType: 'String', StringValue: 'user.updated' },
      },
    });
    expect(JSON.parse(String(inputs[0]?.MessageBody))).toEqual({
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'e1',
      eventType: 'user.updated',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:01.000Z',
      traceId: 't-1',
      subject: { externalId: 'ext-alice' },
      draft: { UserStoreId: 'local-store', Nickname: 'A' },
    });
  });

  it('answers QUEUE_UNAVAILABLE (503, retryable) when SQS does not store a change', async () => {
    const { sqs, deliver } = setup();
    sqs.on(SendMessageCommand).rejects(new Error('throttled'));
    await expect(deliver(connection, [planned('e1')], {})).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      statusCode: 503,
      retryable: true,
      headers: { 'retry-after': '5' },
    });
  });

  it('refuses a change too large to queue and dead-letter, without sending it', async () => {
    const { sqs, deliver } = setup();
    const huge = 'x'.repeat(MAX_ENVELOPE_BYTES);
    await expect(deliver(connection, [planned('e1', huge)], {})).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
    });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});
