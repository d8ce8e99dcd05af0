/**
 * The message attributes the consumer sets when it dead-letters a change, in the order an
 * operator reads them. Attributes, not the body: the body holds the user's data.
 */
export const DEAD_LETTER_REASON_ATTRIBUTES = [
  'errorCode',
  'upstreamCode',
  'upstreamRequestId',
  'attempts',
  'firstErrorAt',
  'lastErrorAt',
  'connectionId',
  'eventId',
  'reason',
  // `false` when the change was dead-lettered without being tried: it sat behind a failing
  // change of its group until its last allowed receive.
  'attempted',
] as const;

export type DeadLetterReasonAttribute = (typeof DEAD_LETTER_REASON_ATTRIBUTES)[number];

/** One dead letter as the operator listing shows it, the same from SQS and the local queue. */
export interface DeadLetterSummary {
  messageId: string;
  groupId?: string;
  /** ISO-8601: when the message was sent to the dead-letter queue. */
  sentAt?: string;
  /** How often the message was received, as its queue reports it. */
  receiveCount?: number;
  /** The queue it failed in: an ARN on AWS, a name locally. */
  sourceQueue?: string;
  /** Only the known reason attributes: anything else a producer added stays out of listings. */
  reason: Partial<Record<DeadLetterReasonAttribute, string>>;
  /** Only when asked for: personal data. */
  body?: string;
}

export interface DeadLetterInput {
  messageId: string;
  body: string;
  groupId?: string | undefined;
  /** Epoch milliseconds. */
  sentTimestamp?: number | undefined;
  receiveCount?: number | undefined;
  sourceQueue?: string | undefined;
  attributes: Readonly<Record<string, string>>;
}

const isoTime = (epochMs: number | undefined): string | undefined =>
  epochMs === undefined || !Number.isFinite(epochMs) ? undefined : new Date(epochMs).toISOString();

export const summarizeDeadLetter = (
  letter: DeadLetterInput,
  { showBody = false }: { showBody?: boolean } = {},
): DeadLetterSummary => {
  const reason: DeadLetterSummary['reason'] = {};
  for (const name of DEAD_LETTER_REASON_ATTRIBUTES) {
    const value = letter.attributes[name];
    if (value !== undefined) reason[name] = value;
  }
  const sentAt = isoTime(letter.sentTimestamp);
  return {
    messageId: letter.messageId,
    ...(letter.groupId === undefined ? {} : { groupId: letter.groupId }),
    ...(sentAt === undefined ? {} : { sentAt }),
    ...(letter.receiveCount === undefined || !Number.isFinite(letter.receiveCount)
      ? {}
      : { receiveCount: letter.receiveCount }),
    ...(letter.sourceQueue === undefined ? {} : { sourceQueue: letter.sourceQueue }),
    reason,
    ...(showBody ? { body: letter.body } : {}),
  };
};
