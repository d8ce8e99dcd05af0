import type { UserSubject } from '../change.ts';
import type { PlannedUpdate } from '../ciam/apply.ts';
import type { MembershipChange } from '../ciam/field-clocks.ts';
import type { UpdateUserDraft } from '../ciam/types.ts';
import { validateUpdateUserDraft } from '../ciam/update-user-schema.ts';
import { DEFAULT_TENANT_ID } from '../config/tenants.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import { isRecord } from '../is-record.ts';

/**
 * What the webhook function stores in SQS for one change: the mapped UpdateUser draft and the one
 * subject field the connection resolves users by, never the source's raw payload (personal data
 * the consumer does not need, and SQS's 256 KiB limit). Versioned so a deployment that changes the
 * shape can still read messages already queued.
 */
export interface QueueEnvelope {
  v: 1;
  connectionId: string;
  eventId: string;
  eventType: string;
  /** ISO-8601: when the change happened at the source; orders changes per user. */
  occurredAt: string;
  /** ISO-8601: when the adapter acknowledged it. */
  receivedAt: string;
  /** The API Gateway / Lambda request id that accepted it, to follow one change across logs. */
  traceId?: string;
  subject: UserSubject;
  /**
   * The CIAM UserId the producer resolved the subject to; the message's FIFO group is named after
   * it. Absent in messages queued before the producer resolved users: those are looked up when
   * applied, as they always were.
   */
  userId?: string;
  draft: UpdateUserDraft;
  /** Group memberships the change sets, by CIAM group id. */
  memberships?: MembershipChange[];
}

const SUBJECT_FIELD = {
  userId: 'ciamUserId',
  email: 'email',
  phone: 'phone',
  indexedAttribute: 'externalId',
} as const satisfies Record<Connection['resolve']['by'], keyof UserSubject>;

/** The subject reduced to what resolution reads; undefined when the change lacks it. */
const resolutionKey = (
  connection: Pick<Connection, 'resolve'>,
  subject: UserSubject,
): { field: keyof UserSubject; value: string } | undefined => {
  const field = SUBJECT_FIELD[connection.resolve.by];
  const value = subject[field];
  return value === undefined || value === '' ? undefined : { field, value };
};

// SQS allows 128 characters of [A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~] in group and dedup ids.
// A readable part holds no `:`, so `<store>:<user>` splits one way only.
const PLAIN_PART = /^[A-Za-z0-9_.@-]{1,100}$/;

/**
 * One FIFO group per CIAM user of a user store of a tenant, whichever connection the change came
 * from: SQS then hands each user's changes to one consumer at a time, in order, and two tenants'
 * users never share a group. The default tenant's ids are `<userStoreId>:<userId>`, as before
 * tenants existed, so messages queued by an earlier version drain in the same groups as new ones;
 * another tenant's are `<tenant>:<userStoreId>:<userId>` (two `:`, never equal to a default id).
 * When a part is not short and plain: a hash (64 hex digits, no `:`, so never equal to a readable
 * id) over the same parts.
 */
export const userGroupId = (
  userStoreId: string,
  userId: string,
  tenantId: string = DEFAULT_TENANT_ID,
): string => {
  if (tenantId === DEFAULT_TENANT_ID) {
    const id = `${userStoreId}:${userId}`;
    return PLAIN_PART.test(userStoreId) && PLAIN_PART.test(userId) && id.length <= 128
      ? id
      : sha256Hex(`${userStoreId}\u0000${userId}`);
  }
  const parts = [tenantId, userStoreId, userId];
  const id = parts.join(':');
  // Hashed as JSON, which never holds a raw NUL: never the input of a default tenant's hash.
  return parts.every((part) => PLAIN_PART.test(part)) && id.length <= 128
    ? id
    : sha256Hex(JSON.stringify(parts));
};

/** Same sender event on the same connection → same id: SQS drops the copy within 5 minutes. */
export const deduplicationId = (connectionId: string, eventId: string): string =>
  sha256Hex(`${connectionId}\u0000${eventId}`);

export interface EnvelopeStamp {
  /** ISO-8601: when the adapter acknowledged the change. */
  receivedAt: string;
  traceId?: string | undefined;
  /** The CIAM UserId the subject resolved to. */
  userId?: string | undefined;
}

export const toEnvelope = (
  connection: Pick<Connection, 'id' | 'resolve'>,
  planned: PlannedUpdate & { change: { eventType: string } },
  { receivedAt, traceId, userId }: EnvelopeStamp,
): QueueEnvelope => {
  const { change, draft, memberships } = planned;
  const key = resolutionKey(connection, change.subject);
  if (key === undefined) {
    throw new AdapterError('USER_NOT_FOUND', 'The event carries nothing to find the user by', {
      details: { resolveBy: connection.resolve.by },
    });
  }
  return {
    v: 1,
    connectionId: connection.id,
    eventId: change.eventId,
    eventType: change.eventType,
    occurredAt: change.occurredAt,
    receivedAt,
    ...(traceId === undefined ? {} : { traceId }),
    subject: { [key.field]: key.value },
    ...(userId === undefined ? {} : { userId }),
    draft,
    ...(memberships === undefined || memberships.length === 0
      ? {}
      : { memberships: [...memberships] }),
  };
};

const isMembership = (value: unknown): value is MembershipChange =>
  isRecord(value) &&
  typeof value.groupId === 'string' &&
  value.groupId !== '' &&
  typeof value.member === 'boolean' &&
  Object.keys(value).length === 2;

const invalid = (reason: string, cause?: unknown) =>
  new AdapterError('MESSAGE_INVALID', `The queued message is not a valid envelope: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { reason },
  });

const isIsoTime = (value: unknown): value is string =>
  typeof value === 'string' && Number.isFinite(Date.parse(value));

const SUBJECT_FIELDS = new Set<string>(Object.values(SUBJECT_FIELD));

/**
 * Parses a message body; anything else than a v1 envelope with a valid draft is MESSAGE_INVALID,
 * which the consumer dead-letters at once: no retry can repair it.
 */
export const parseEnvelope = (body: string): QueueEnvelope => {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid('body is not JSON');
  }
  if (!isRecord(value)) throw invalid('body is not an object');
  if (value.v !== 1) throw invalid('unknown envelope version');
  for (const field of ['connectionId', 'eventId', 'eventType'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') throw invalid(`${field} missing`);
  }
  if (!isIsoTime(value.occurredAt)) throw invalid('occurredAt is not a time');
  if (!isIsoTime(value.receivedAt)) throw invalid('receivedAt is not a time');
  if (value.traceId !== undefined && typeof value.traceId !== 'string') {
    throw invalid('traceId is not a string');
  }
  if (value.userId !== undefined && (typeof value.userId !== 'string' || value.userId === '')) {
    throw invalid('userId is not a non-empty string');
  }
  const { subject } = value;
  if (
    !isRecord(subject) ||
    Object.keys(subject).length !== 1 ||
    !Object.entries(subject).every(
      ([field, entry]) => SUBJECT_FIELDS.has(field) && typeof entry === 'string' && entry !== '',
    )
  ) {
    throw invalid('subject must name exactly one lookup field');
  }
  if (
    value.memberships !== undefined &&
    !(Array.isArray(value.memberships) && value.memberships.every(isMembership))
  ) {
    throw invalid('memberships must be {groupId, member} items');
  }
  try {
    validateUpdateUserDraft(value.draft);
  } catch (error) {
    if (isAdapterError(error)) throw invalid('draft is not a valid UpdateUser draft', error);
    throw error;
  }
  return value as unknown as QueueEnvelope;
};
