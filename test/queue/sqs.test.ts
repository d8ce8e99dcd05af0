import {
  ChangeMessageVisibilityCommand,
  MessageNotInflight,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqsQueue, listDeadLetters, startRedrive } from '../../lib/queue/sqs.ts';

const QUEUE_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo';
const DLQ_URL = 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes-dlq.fifo';
const DLQ_ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:changes-dlq.fifo';
const SOURCE_ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:changes.fifo';

const sqs = mockClient(SQSClient);
const client = () => new SQSClient({ region: 'ap-southeast-1' });

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('queue/sqs', () => {
  beforeEach(() => sqs.reset());
  afterEach(() => sqs.reset());

  describe('createSqsQueue', () => {
    it('sends group, deduplication id and string attributes and returns the ids', async () => {
      sqs
        .on(SendMessageCommand)
        .resolves({ MessageId: 'm-1', SequenceNumber: '10000000000000000001' });
      const sent = await createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).send({
        body: '{"eventId":"evt_1"}',
        groupId: 'conn-1:user-42',
        deduplicationId: 'evt_1',
        attributes: { connectionId: 'conn-1', schema: 'v1' },
      });
      expect(sent).toEqual({ messageId: 'm-1', sequenceNumber: '10000000000000000001' });
      expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
        QueueUrl: QUEUE_URL,
        MessageBody: '{"eventId":"evt_1"}',
        MessageGroupId: 'conn-1:user-42',
        MessageDeduplicationId: 'evt_1',
        MessageAttributes: {
          connectionId: { DataType: 'String', StringValue: 'conn-1' },
          schema: { DataType: 'String', StringValue: 'v1' },
        },
      });
    });

    it('sends a batch as one SendMessageBatch and returns the ids in order', async () => {
      sqs.on(SendMessageBatchCommand).resolves({
        // SQS may list the entries in any order: the ids say which is which.
        Successful: [
          { Id: '1', MessageId: 'm-2', MD5OfMessageBody: '', SequenceNumber: '2' },
          { Id: '0', MessageId: 'm-1', MD5OfMessageBody: '', SequenceNumber: '1' },
        ],
        Failed: [],
      });
      const sent = await createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).sendBatch?.([
        { body: 'a', groupId: 'g', deduplicationId: 'd-a', attributes: { connectionId: 'c' } },
        { body: 'b', groupId: 'g', deduplicationId: 'd-b' },
      ]);
      expect(sent).toEqual([
        { messageId: 'm-1', sequenceNumber: '1' },
        { messageId: 'm-2', sequenceNumber: '2' },
      ]);
      expect(sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input).toEqual({
        QueueUrl: QUEUE_URL,
        Entries: [
          {
            Id: '0',
            MessageBody: 'a',
            MessageGroupId: 'g',
            MessageDeduplicationId: 'd-a',
            MessageAttributes: { connectionId: { DataType: 'String', StringValue: 'c' } },
          },
          { Id: '1', MessageBody: 'b', MessageGroupId: 'g', MessageDeduplicationId: 'd-b' },
        ],
      });
    });

    it('throws when a batch entry was not stored, naming it', async () => {
      sqs.on(SendMessageBatchCommand).resolves({
        Successful: [{ Id: '0', MessageId: 'm-1', MD5OfMessageBody: '' }],
        Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false }],
      });
      const error = await rejection(
        createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).sendBatch?.([
          { body: 'a', groupId: 'g', deduplicationId: 'd-a' },
          { body: 'b', groupId: 'g', deduplicationId: 'd-b' },
        ]) ?? Promise.resolve(),
      );
      expect(error).toMatchObject({
        name: 'QueueBatchError',
        failed: [{ index: 1, code: 'InternalError' }],
      });
    });

    it('leaves MessageAttributes out when the message has none', async () => {
      sqs.on(SendMessageCommand).resolves({ MessageId: 'm-2' });
      const sent = await createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).send({
        body: 'b',
        groupId: 'g',
        deduplicationId: 'd',
        attributes: {},
      });
      expect(sent).toEqual({ messageId: 'm-2' });
      expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
        QueueUrl: QUEUE_URL,
        MessageBody: 'b',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd',
      });
    });

    it('hands the caller signal to the SDK as abortSignal', async () => {
      sqs.on(SendMessageCommand).resolves({ MessageId: 'm-3' });
      const controller = new AbortController();
      await createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).send(
        { body: 'b', groupId: 'g', deduplicationId: 'd' },
        { signal: controller.signal },
      );
      const args = sqs.commandCalls(SendMessageCommand)[0]?.args as unknown[] | undefined;
      expect(args?.[1]).toEqual({ abortSignal: controller.signal });
    });

    it('fails with INTERNAL when SQS answers without a MessageId', async () => {
      sqs.on(SendMessageCommand).resolves({});
      const error = await rejection(
        createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).send({
          body: 'b',
          groupId: 'g',
          deduplicationId: 'd',
        }),
      );
      expect(error).toMatchObject({ code: 'INTERNAL', statusCode: 500 });
    });

    it('changes visibility with the receipt handle and timeout given', async () => {
      sqs.on(ChangeMessageVisibilityCommand).resolves({});
      await createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).changeVisibility('rh-1', 45);
      expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
        QueueUrl: QUEUE_URL,
        ReceiptHandle: 'rh-1',
        VisibilityTimeout: 45,
      });
    });

    it.each([
      ['ReceiptHandleIsInvalid', new ReceiptHandleIsInvalid({ message: 'x', $metadata: {} })],
      ['MessageNotInflight', new MessageNotInflight({ message: 'x', $metadata: {} })],
    ])(
      'reports %s as code ReceiptHandleIsInvalid, keeping the SDK error as cause',
      async (_, sdkError) => {
        sqs.on(ChangeMessageVisibilityCommand).rejects(sdkError);
        const error = await rejection(
          createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).changeVisibility('rh-1', 0),
        );
        expect(error).toMatchObject({ name: 'QueueError', code: 'ReceiptHandleIsInvalid' });
        expect((error as Error).cause).toBe(sdkError);
      },
    );

    it('lets other SDK errors through unchanged', async () => {
      const sdkError = new QueueDoesNotExist({ message: 'gone', $metadata: {} });
      sqs.on(ChangeMessageVisibilityCommand).rejects(sdkError);
      const error = await rejection(
        createSqsQueue({ client: client(), queueUrl: QUEUE_URL }).changeVisibility('rh-1', 0),
      );
      expect(error).toBe(sdkError);
    });
  });

  describe('listDeadLetters', () => {
    const message = (id: string, group: string) => ({
      MessageId: id,
      ReceiptHandle: `rh-${id}`,
      Body: `body-${id}`,
      Attributes: {
        MessageGroupId: group,
        MessageDeduplicationId: `orig-${id}`,
        SequenceNumber: '10000000000000000007',
        SentTimestamp: '1700000000000',
        ApproximateReceiveCount: '1',
        DeadLetterQueueSourceArn: SOURCE_ARN,
      },
      MessageAttributes: {
        connectionId: { DataType: 'String', StringValue: 'conn-1' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1]) },
      },
    });

    it('receives with all attributes and a short visibility timeout, flattening each message', async () => {
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [message('a', 'g1')] })
        .resolves({});
      const letters = await listDeadLetters({ client: client(), queueUrl: DLQ_URL, max: 5 });
      expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toEqual({
        QueueUrl: DLQ_URL,
        MaxNumberOfMessages: 5,
        VisibilityTimeout: 30,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      });
      expect(letters).toEqual([
        {
          messageId: 'a',
          receiptHandle: 'rh-a',
          body: 'body-a',
          groupId: 'g1',
          deduplicationId: 'orig-a',
          sequenceNumber: '10000000000000000007',
          sentTimestamp: 1_700_000_000_000,
          receiveCount: 1,
          deadLetterSourceArn: SOURCE_ARN,
          attributes: { connectionId: 'conn-1' },
        },
      ]);
    });

    it('keeps receiving until max, asking for no more than is left, and skips repeats', async () => {
      const ten = Array.from({ length: 10 }, (_, i) => message(`m${i}`, `g${i}`));
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: ten })
        .resolvesOnce({ Messages: [message('m0', 'g0'), message('x', 'gx'), message('y', 'gy')] })
        .resolves({ Messages: [message('z', 'gz')] });
      const letters = await listDeadLetters({
        client: client(),
        queueUrl: DLQ_URL,
        max: 12,
        visibilityTimeoutSeconds: 10,
      });
      expect(letters.map((letter) => letter.messageId)).toEqual([
        ...ten.map((m) => m.MessageId),
        'x',
        'y',
      ]);
      const inputs = sqs.commandCalls(ReceiveMessageCommand).map((call) => call.args[0].input);
      expect(inputs.map((input) => input.MaxNumberOfMessages)).toEqual([10, 2]);
      expect(inputs.every((input) => input.VisibilityTimeout === 10)).toBe(true);
    });

    it('stops when the queue answers empty', async () => {
      sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });
      await expect(
        listDeadLetters({ client: client(), queueUrl: DLQ_URL, max: 50 }),
      ).resolves.toEqual([]);
      expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(1);
    });
  });

  describe('startRedrive', () => {
    it('starts a message move task with the given destination and rate', async () => {
      sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
      const started = await startRedrive({
        client: client(),
        sourceArn: DLQ_ARN,
        destinationArn: SOURCE_ARN,
        maxPerSecond: 10,
      });
      expect(started).toEqual({ taskHandle: 'task-1' });
      expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
        SourceArn: DLQ_ARN,
        DestinationArn: SOURCE_ARN,
        MaxNumberOfMessagesPerSecond: 10,
      });
    });

    it('sends only SourceArn when destination and rate are left to SQS', async () => {
      sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });
      await startRedrive({ client: client(), sourceArn: DLQ_ARN });
      expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
        SourceArn: DLQ_ARN,
      });
    });
  });
});
