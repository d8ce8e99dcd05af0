/** One message for a FIFO queue: the group orders it, the deduplication id makes resends safe. */
export interface OutgoingMessage {
  body: string;
  /** MessageGroupId: messages of one group are delivered in order, one batch at a time. */
  groupId: string;
  /** MessageDeduplicationId: a resend with the same id within 5 minutes is accepted but dropped. */
  deduplicationId: string;
  /** String message attributes. */
  attributes?: Readonly<Record<string, string>>;
}

export interface SentMessage {
  messageId: string;
  /** FIFO queues number every accepted message; the number only grows within a group. */
  sequenceNumber?: string;
}

/** SQS's limits for one SendMessageBatch: 10 entries, 256 KiB of bodies and attributes. */
export const MAX_BATCH_MESSAGES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;

/** What a message counts toward SQS's size limits: body, attribute names, types and values. */
export const messageBytes = (message: OutgoingMessage): number => {
  let bytes = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    bytes += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return bytes;
};

/** What the producer and the consumer need of a FIFO queue. */
export interface QueuePort {
  send(message: OutgoingMessage, options?: { signal?: AbortSignal }): Promise<SentMessage>;
  /**
   * SendMessageBatch: up to {@link MAX_BATCH_MESSAGES} messages in one call, stored in their
   * order. Resolves with one result per message, in order, only when every one was stored; throws
   * otherwise (some may have been stored: a resend is dropped as a duplicate by its id). Optional:
   * a queue without it gets one send per message.
   */
  sendBatch?(
    messages: readonly OutgoingMessage[],
    options?: { signal?: AbortSignal },
  ): Promise<SentMessage[]>;
  /** ChangeMessageVisibility for a received message (receipt handle). */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<void>;
}

/**
 * SQS's own error names, kept so callers can treat the SQS adapter and the local queue alike:
 * a receipt handle is invalid once the message was deleted, received again, or (FIFO) its
 * visibility timeout ran out.
 */
export type QueueErrorCode = 'ReceiptHandleIsInvalid' | 'InvalidParameterValue';

export class QueueError extends Error {
  override readonly name = 'QueueError';
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
