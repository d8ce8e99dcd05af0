import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  messageBytes,
  type OutgoingMessage,
  QueueError,
  type QueuePort,
  type SentMessage,
} from '../lib/queue/types.ts';

export interface LocalFifoQueueOptions {
  name: string;
  /** Epoch milliseconds; the queue has no timers, so visibility and deduplication follow this. */
  now: () => number;
  visibilityTimeoutSeconds: number;
  /** Redrive policy: set both or neither, as SQS requires. */
  maxReceiveCount?: number;
  deadLetterQueue?: LocalFifoQueue;
}

/** What every view of a stored message shows. */
interface MessageView {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sequenceNumber: string;
  /** Epoch milliseconds. */
  readonly sentTimestamp: number;
  readonly receiveCount: number;
}

/** A message as one receive handed it out; a snapshot, so later receives do not change it. */
export interface ReceivedMessage extends MessageView {
  readonly receiptHandle: string;
  /** Epoch milliseconds. */
  readonly firstReceiveTimestamp: number;
}

/** A message as it sits in the queue, for tests and the operator CLI (e.g. a DLQ listing). */
export interface QueuedMessage extends MessageView {
  readonly firstReceiveTimestamp: number | undefined;
  readonly state: 'visible' | 'in-flight';
  /** Set on messages a redrive policy moved here: the queue they failed in. */
  readonly deadLetterSourceQueue: string | undefined;
}

export interface QueueStats {
  /** Waiting to be received (some may sit behind an in-flight message of their group). */
  visible: number;
  /** Received, not deleted, visibility timeout not over. */
  inFlight: number;
  total: number;
}

export interface LocalFifoQueue extends QueuePort {
  readonly name: string;
  sendBatch(
    messages: readonly OutgoingMessage[],
    options?: { signal?: AbortSignal },
  ): Promise<SentMessage[]>;
  /** ReceiveMessage (short poll): up to `max` (1–10, default 10) messages, FIFO per group. */
  receive(options?: { max?: number }): ReceivedMessage[];
  /** DeleteMessage with the handle of the latest receive, while the message is in flight. */
  delete(receiptHandle: string): void;
  peek(): QueuedMessage[];
  stats(): QueueStats;
  /** StartMessageMoveTask: moves every message not in flight, in order; returns how many. */
  moveAllTo(destination: LocalFifoQueue): number;
  toSqsEvent(
    messages: readonly ReceivedMessage[],
    options: { queueArn: string; region: string },
  ): SQSEvent;
}

const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
const MAX_ATTRIBUTES = 10;
// SQS sequence numbers are 20-digit decimal strings; starting at 10^19 keeps that width.
const SEQUENCE_BASE = 10n ** 19n;
// The SenderId in AWS's sample FIFO event for Lambda.
const SENDER_ID = 'AIDAIO23YVJENQZJOL4VO';
// Group and deduplication ids: 1–128 characters, letters, digits and ASCII punctuation.
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
const ATTRIBUTE_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i;

interface Stored {
  readonly messageId: string;
  readonly body: string;
  readonly groupId: string;
  readonly deduplicationId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly seq: number;
  readonly sequenceNumber: string;
  readonly sentTimestamp: number;
  readonly deadLetterSourceQueue: string | undefined;
  receiveCount: number;
  firstReceiveTimestamp: number | undefined;
  receiptHandle: string | undefined;
  /** Epoch ms; the message is in flight while this is in the future. */
  invisibleUntil: number;
}

interface DeduplicationEntry {
  readonly sent: SentMessage;
  readonly expiresAt: number;
}

/** What one local queue needs of another (DLQ, move target) beyond the public surface. */
interface Internals {
  enqueue(message: OutgoingMessage, messageId: string, deadLetterSource?: string): SentMessage;
}
const internals = new WeakMap<LocalFifoQueue, Internals>();

const invalid = (message: string) => new QueueError('InvalidParameterValue', message);

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

const lengthPrefixed = (value: string) => {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return [length, bytes];
};

/**
 * MD5OfMessageAttributes as SQS computes it: attributes sorted by name, each encoded as
 * length-prefixed name, data type, a transport byte (1 = string) and length-prefixed value.
 */
export const md5OfMessageAttributes = (
  attributes: Readonly<Record<string, { dataType: string; stringValue: string }>>,
): string => {
  const parts: Buffer[] = [];
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (attribute === undefined) continue;
    parts.push(
      ...lengthPrefixed(name),
      ...lengthPrefixed(attribute.dataType),
      Buffer.from([1]),
      ...lengthPrefixed(attribute.stringValue),
    );
  }
  return md5(Buffer.concat(parts));
};

const validateOutgoing = (message: OutgoingMessage) => {
  if (message.body.length === 0) throw invalid('The message body must not be empty');
  if (!FIFO_ID.test(message.groupId)) throw invalid(`Invalid MessageGroupId: ${message.groupId}`);
  if (!FIFO_ID.test(message.deduplicationId)) {
    throw invalid(`Invalid MessageDeduplicationId: ${message.deduplicationId}`);
  }
  const attributes = Object.entries(message.attributes ?? {});
  if (attributes.length > MAX_ATTRIBUTES) {
    throw invalid(`At most ${MAX_ATTRIBUTES} message attributes are allowed`);
  }
  for (const [name, value] of attributes) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalid(`Invalid message attribute name: ${name}`);
    if (value === '') throw invalid(`Message attribute ${name} must have a non-empty value`);
  }
};

const validateVisibility = (seconds: number) => {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
    throw invalid(
      `Visibility timeout must be an integer from 0 to ${MAX_VISIBILITY_TIMEOUT_SECONDS}`,
    );
  }
};

const toRecord = (
  message: ReceivedMessage,
  { queueArn, region }: { queueArn: string; region: string },
): SQSRecord => {
  const names = Object.keys(message.attributes);
  const typed = Object.fromEntries(
    names.map((name) => [
      name,
      { dataType: 'String', stringValue: message.attributes[name] ?? '' },
    ]),
  );
  const messageAttributes: SQSMessageAttributes = Object.fromEntries(
    names.map((name) => [
      name,
      {
        stringValue: message.attributes[name] ?? '',
        stringListValues: [],
        binaryListValues: [],
        dataType: 'String',
      },
    ]),
  );
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    // Key order as in Lambda's own FIFO events.
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentTimestamp),
      SequenceNumber: message.sequenceNumber,
      MessageGroupId: message.groupId,
      SenderId: SENDER_ID,
      MessageDeduplicationId: message.deduplicationId,
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
    },
    messageAttributes,
    md5OfBody: md5(message.body),
    ...(names.length === 0 ? {} : { md5OfMessageAttributes: md5OfMessageAttributes(typed) }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
};

/**
 * An in-process SQS FIFO queue with the semantics the consumer relies on: per-group order, one
 * group in flight at a time, visibility timeouts with fresh receipt handles, the 5-minute
 * deduplication window, and a redrive policy into a dead-letter queue.
 */
export const createLocalFifoQueue = (options: LocalFifoQueueOptions): LocalFifoQueue => {
  const { name, now, visibilityTimeoutSeconds, maxReceiveCount, deadLetterQueue } = options;
  validateVisibility(visibilityTimeoutSeconds);
  if ((maxReceiveCount === undefined) !== (deadLetterQueue === undefined)) {
    throw new RangeError('maxReceiveCount and deadLetterQueue go together (a redrive policy)');
  }
  if (
    maxReceiveCount !== undefined &&
    (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1)
  ) {
    throw new RangeError('maxReceiveCount must be a positive integer');
  }
  const deadLetters = deadLetterQueue === undefined ? undefined : internals.get(deadLetterQueue);
  if (deadLetterQueue !== undefined && deadLetters === undefined) {
    throw new TypeError('deadLetterQueue must be a local FIFO queue');
  }

  // Each group's messages in send order; receive serves the group with the oldest head first.
  const groups = new Map<string, Stored[]>();
  const byHandle = new Map<string, Stored>();
  // Insertion order is expiry order (entries are re-inserted, never updated), so purging stops early.
  const deduplication = new Map<string, DeduplicationEntry>();
  let sequence = 0;

  const inFlight = (message: Stored, at: number) => message.invisibleUntil > at;

  const purgeDeduplication = (at: number) => {
    for (const [id, entry] of deduplication) {
      if (entry.expiresAt > at) break;
      deduplication.delete(id);
    }
  };

  const enqueue = (
    message: OutgoingMessage,
    messageId: string,
    deadLetterSource?: string,
  ): SentMessage => {
    validateOutgoing(message);
    const at = now();
    purgeDeduplication(at);
    const seen = deduplication.get(message.deduplicationId);
    if (seen !== undefined && seen.expiresAt > at) return seen.sent;
    deduplication.delete(message.deduplicationId);

    sequence += 1;
    const stored: Stored = {
      messageId,
      body: message.body,
      groupId: message.groupId,
      deduplicationId: message.deduplicationId,
      attributes: { ...message.attributes },
      seq: sequence,
      sequenceNumber: (SEQUENCE_BASE + BigInt(sequence)).toString(),
      sentTimestamp: at,
      deadLetterSourceQueue: deadLetterSource,
      receiveCount: 0,
      firstReceiveTimestamp: undefined,
      receiptHandle: undefined,
      invisibleUntil: 0,
    };
    const group = groups.get(stored.groupId);
    if (group === undefined) groups.set(stored.groupId, [stored]);
    else group.push(stored);
    const sent = { messageId, sequenceNumber: stored.sequenceNumber };
    deduplication.set(message.deduplicationId, {
      sent,
      expiresAt: at + DEDUPLICATION_WINDOW_MS,
    });
    return sent;
  };

  const remove = (message: Stored) => {
    const group = groups.get(message.groupId);
    const index = group?.indexOf(message) ?? -1;
    if (group !== undefined && index !== -1) group.splice(index, 1);
    if (group?.length === 0) groups.delete(message.groupId);
    if (message.receiptHandle !== undefined) byHandle.delete(message.receiptHandle);
  };

  const current = (receiptHandle: string): Stored => {
    const message = byHandle.get(receiptHandle);
    if (
      message === undefined ||
      message.receiptHandle !== receiptHandle ||
      !inFlight(message, now())
    ) {
      throw new QueueError(
        'ReceiptHandleIsInvalid',
        `The receipt handle is not valid on ${name}: the message was deleted, received again, or its visibility timeout ran out`,
      );
    }
    return message;
  };

  const viewOf = (message: Stored): MessageView => ({
    messageId: message.messageId,
    body: message.body,
    groupId: message.groupId,
    deduplicationId: message.deduplicationId,
    attributes: message.attributes,
    sequenceNumber: message.sequenceNumber,
    sentTimestamp: message.sentTimestamp,
    receiveCount: message.receiveCount,
  });

  const snapshot = (message: Stored, at: number): QueuedMessage => ({
    ...viewOf(message),
    firstReceiveTimestamp: message.firstReceiveTimestamp,
    state: inFlight(message, at) ? 'in-flight' : 'visible',
    deadLetterSourceQueue: message.deadLetterSourceQueue,
  });

  const all = () => [...groups.values()].flat().sort((a, b) => a.seq - b.seq);

  const queue: LocalFifoQueue = {
    name,

    async send(message, sendOptions = {}) {
      sendOptions.signal?.throwIfAborted();
      return enqueue(message, randomUUID());
    },

    async sendBatch(messages, sendOptions = {}) {
      sendOptions.signal?.throwIfAborted();
      if (messages.length < 1 || messages.length > MAX_BATCH_MESSAGES) {
        throw invalid(`A batch holds 1 to ${MAX_BATCH_MESSAGES} messages`);
      }
      if (messages.reduce((sum, message) => sum + messageBytes(message), 0) > MAX_BATCH_BYTES) {
        throw invalid(`A batch holds at most ${MAX_BATCH_BYTES} bytes`);
      }
      // SQS checks every entry before it stores any in this queue's simple model.
      for (const message of messages) validateOutgoing(message);
      return messages.map((message) => enqueue(message, randomUUID()));
    },

    async changeVisibility(receiptHandle, seconds) {
      validateVisibility(seconds);
      const message = current(receiptHandle);
      message.invisibleUntil = now() + seconds * 1000;
    },

    receive({ max = 10 } = {}) {
      if (!Number.isInteger(max) || max < 1 || max > 10) {
        throw invalid('MaxNumberOfMessages must be an integer from 1 to 10');
      }
      const at = now();
      // A group with any message in flight is locked: that is what keeps a group in order.
      const open = [...groups.values()]
        .filter((group) => group.length > 0 && !group.some((message) => inFlight(message, at)))
        .sort((a, b) => (a[0]?.seq ?? 0) - (b[0]?.seq ?? 0));
      const received: ReceivedMessage[] = [];
      // Like SQS, fill the batch from one group before moving to the next.
      for (const group of open) {
        const groupId = group[0]?.groupId ?? '';
        let index = 0;
        while (received.length < max && index < group.length) {
          const message = group[index];
          if (message === undefined) break;
          if (maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount) {
            group.splice(index, 1);
            if (message.receiptHandle !== undefined) byHandle.delete(message.receiptHandle);
            // SQS gives a FIFO dead letter its source message id as deduplication id.
            deadLetters?.enqueue(
              {
                body: message.body,
                groupId: message.groupId,
                deduplicationId: message.messageId,
                attributes: message.attributes,
              },
              message.messageId,
              name,
            );
            continue;
          }
          if (message.receiptHandle !== undefined) byHandle.delete(message.receiptHandle);
          message.receiptHandle = randomBytes(48).toString('base64');
          byHandle.set(message.receiptHandle, message);
          message.receiveCount += 1;
          message.firstReceiveTimestamp ??= at;
          message.invisibleUntil = at + visibilityTimeoutSeconds * 1000;
          received.push({
            ...viewOf(message),
            receiptHandle: message.receiptHandle,
            firstReceiveTimestamp: message.firstReceiveTimestamp,
          });
          index += 1;
        }
        if (group.length === 0) groups.delete(groupId);
        if (received.length === max) break;
      }
      return received;
    },

    delete(receiptHandle) {
      remove(current(receiptHandle));
    },

    peek() {
      const at = now();
      return all().map((message) => snapshot(message, at));
    },

    stats() {
      const at = now();
      let inFlightCount = 0;
      let total = 0;
      for (const group of groups.values()) {
        for (const message of group) {
          total += 1;
          if (inFlight(message, at)) inFlightCount += 1;
        }
      }
      return { visible: total - inFlightCount, inFlight: inFlightCount, total };
    },

    moveAllTo(destination) {
      const target = internals.get(destination);
      if (target === undefined || destination === queue) {
        throw new TypeError('moveAllTo needs another local FIFO queue');
      }
      const at = now();
      let moved = 0;
      for (const message of all()) {
        if (inFlight(message, at)) continue;
        remove(message);
        target.enqueue(
          {
            body: message.body,
            groupId: message.groupId,
            deduplicationId: message.deduplicationId,
            attributes: message.attributes,
          },
          randomUUID(),
        );
        moved += 1;
      }
      return moved;
    },

    toSqsEvent(messages, eventOptions) {
      return { Records: messages.map((message) => toRecord(message, eventOptions)) };
    },
  };
  internals.set(queue, { enqueue });
  return queue;
};
