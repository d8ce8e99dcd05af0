import type { Message, MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { sqsSdk } from '../aws/sdk.ts';
import { AdapterError } from '../errors.ts';
import { MAX_BATCH_MESSAGES, type OutgoingMessage, QueueError, type QueuePort } from './types.ts';

export interface SqsQueueOptions {
  /** Default: a client for the function's own region and role. */
  client?: SQSClient;
  queueUrl: string;
}

// SQS answers a stale handle with one of these, depending on whether the message is still there.
const STALE_HANDLE_ERRORS = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight']);

/** The fields of one message as SendMessage and a SendMessageBatch entry both take them. */
const entryOf = (message: OutgoingMessage) => {
  const attributes = Object.entries(message.attributes ?? {});
  return {
    MessageBody: message.body,
    MessageGroupId: message.groupId,
    MessageDeduplicationId: message.deduplicationId,
    ...(attributes.length === 0
      ? {}
      : {
          MessageAttributes: Object.fromEntries(
            attributes.map(([name, value]): [string, MessageAttributeValue] => [
              name,
              { DataType: 'String', StringValue: value },
            ]),
          ),
        }),
  };
};

/** SendMessageBatch stored only some of the messages: which ones failed, by position. */
export class QueueBatchError extends Error {
  override readonly name = 'QueueBatchError';
  readonly failed: ReadonlyArray<{ index: number; code: string }>;

  constructor(message: string, failed: ReadonlyArray<{ index: number; code: string }>) {
    super(message);
    this.failed = failed;
  }
}

/**
 * QueuePort over a real SQS FIFO queue. SDK errors other than a stale handle pass through. The SDK
 * is loaded, and the default client made, on the first call (lib/aws/sdk.ts): a webhook function
 * whose connections are all synchronous never loads it.
 */
export const createSqsQueue = ({ client: given, queueUrl }: SqsQueueOptions): QueuePort => {
  let client = given;
  const clientOf = () => {
    client ??= new (sqsSdk().SQSClient)({});
    return client;
  };
  return {
    async send(message, options = {}) {
      const output = await clientOf().send(
        new (sqsSdk().SendMessageCommand)({ QueueUrl: queueUrl, ...entryOf(message) }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      if (output.MessageId === undefined) {
        throw new AdapterError('INTERNAL', 'SQS SendMessage answered without a MessageId');
      }
      return output.SequenceNumber === undefined
        ? { messageId: output.MessageId }
        : { messageId: output.MessageId, sequenceNumber: output.SequenceNumber };
    },

    async sendBatch(messages, options = {}) {
      if (messages.length === 0) return [];
      if (messages.length > MAX_BATCH_MESSAGES) {
        throw new AdapterError('INTERNAL', `SendMessageBatch takes at most ${MAX_BATCH_MESSAGES}`);
      }
      const output = await clientOf().send(
        new (sqsSdk().SendMessageBatchCommand)({
          QueueUrl: queueUrl,
          // Entry ids only need to be unique within the call: the position says it.
          Entries: messages.map((message, index) => ({ Id: String(index), ...entryOf(message) })),
        }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      const failed = output.Failed ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new QueueBatchError(
          `SQS stored ${messages.length - failed.length} of ${messages.length} messages; entry ${first?.Id} failed with ${first?.Code}`,
          failed.map((entry) => ({ index: Number(entry.Id), code: entry.Code ?? 'Unknown' })),
        );
      }
      const byId = new Map((output.Successful ?? []).map((entry) => [entry.Id, entry]));
      return messages.map((_, index) => {
        const entry = byId.get(String(index));
        if (entry?.MessageId === undefined) {
          throw new AdapterError('INTERNAL', 'SQS SendMessageBatch answered without a MessageId');
        }
        return entry.SequenceNumber === undefined
          ? { messageId: entry.MessageId }
          : { messageId: entry.MessageId, sequenceNumber: entry.SequenceNumber };
      });
    },

    async changeVisibility(receiptHandle, visibilityTimeoutSeconds) {
      try {
        await clientOf().send(
          new (sqsSdk().ChangeMessageVisibilityCommand)({
            QueueUrl: queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: visibilityTimeoutSeconds,
          }),
        );
      } catch (error) {
        const name = (error as { name?: unknown } | null)?.name;
        if (typeof name === 'string' && STALE_HANDLE_ERRORS.has(name)) {
          throw new QueueError(
            'ReceiptHandleIsInvalid',
            `SQS rejected the receipt handle (${name})`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
    },
  };
};

/** A message read from a dead-letter queue, flattened for an operator. */
export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  groupId: string | undefined;
  /** In a FIFO DLQ this is the message id the message had in its source queue. */
  deduplicationId: string | undefined;
  sequenceNumber: string | undefined;
  /** Epoch milliseconds. */
  sentTimestamp: number | undefined;
  receiveCount: number | undefined;
  deadLetterSourceArn: string | undefined;
  /** String (and Number) message attributes; binary ones are left out. */
  attributes: Record<string, string>;
}

export interface ListDeadLettersOptions {
  client: SQSClient;
  queueUrl: string;
  /** Stop after this many messages. */
  max: number;
  /** How long the listed messages stay hidden. Default 30 s. */
  visibilityTimeoutSeconds?: number;
}

const toNumber = (value: string | undefined) => (value === undefined ? undefined : Number(value));

const toDeadLetter = (message: Message): DeadLetter | undefined => {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) return undefined;
  const system = message.Attributes ?? {};
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    groupId: system.MessageGroupId,
    deduplicationId: system.MessageDeduplicationId,
    sequenceNumber: system.SequenceNumber,
    sentTimestamp: toNumber(system.SentTimestamp),
    receiveCount: toNumber(system.ApproximateReceiveCount),
    deadLetterSourceArn: system.DeadLetterQueueSourceArn,
    attributes,
  };
};

/**
 * Reads up to `max` messages from a dead-letter queue without deleting them. SQS has no peek:
 * reading is receiving. The messages stay hidden for the visibility timeout, which is also what
 * lets the next call return further messages; and on a FIFO DLQ every group read is locked for
 * that time, so keep it short and do not run this while a redrive of the same queue is moving.
 */
export const listDeadLetters = async ({
  client,
  queueUrl,
  max,
  visibilityTimeoutSeconds = 30,
}: ListDeadLettersOptions): Promise<DeadLetter[]> => {
  const seen = new Map<string, DeadLetter>();
  while (seen.size < max) {
    const { Messages: messages = [] } = await client.send(
      new (sqsSdk().ReceiveMessageCommand)({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: visibilityTimeoutSeconds,
        // Long polling asks every SQS host; a short poll may answer empty while messages exist.
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    let added = 0;
    for (const message of messages) {
      const letter = toDeadLetter(message);
      if (letter === undefined || seen.has(letter.messageId)) continue;
      seen.set(letter.messageId, letter);
      added += 1;
    }
    if (added === 0) break;
  }
  return [...seen.values()];
};

export interface StartRedriveOptions {
  client: SQSClient;
  /** ARN of the dead-letter queue to move messages out of. */
  sourceArn: string;
  /** Default: the queue(s) the messages came from. */
  destinationArn?: string;
  /** SQS allows up to 500; unset means as fast as SQS goes. */
  maxPerSecond?: number;
}

/**
 * StartMessageMoveTask: moves dead letters back (new message ids, receive counts reset). SQS
 * runs one task per queue at a time and rejects a second one.
 */
export const startRedrive = async ({
  client,
  sourceArn,
  destinationArn,
  maxPerSecond,
}: StartRedriveOptions): Promise<{ taskHandle: string | undefined }> => {
  const output = await client.send(
    new (sqsSdk().StartMessageMoveTaskCommand)({
      SourceArn: sourceArn,
      ...(destinationArn === undefined ? {} : { DestinationArn: destinationArn }),
      ...(maxPerSecond === undefined ? {} : { MaxNumberOfMessagesPerSecond: maxPerSecond }),
    }),
  );
  return { taskHandle: output.TaskHandle };
};
