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

/** What the producer and the consumer need of a FIFO queue. */
export interface QueuePort {
  send(message: OutgoingMessage, options?: { signal?: AbortSignal }): Promise<SentMessage>;
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
