import { sha256Hex } from '../hash.ts';
import type { MemberMap } from './types.ts';

/**
 * The stale-event guard: per user and connection, the mark of the last change the connection
 * applied (its event time and event key), kept in a CIAM custom attribute so no other datastore is
 * needed. A change at or before that mark is stale or a duplicate and is skipped, not written.
 */
export interface StaleGuard {
  /** The custom attribute holding the applied mark. */
  attribute: string;
  /** `Type` sent with the attribute (the mapping's customAttributeType). */
  type: string;
}

/** What the stale-event guard stores: the last applied change of one connection to one user. */
export interface AppliedMark {
  /** Epoch milliseconds of the change at the source. */
  occurredAtMs: number;
  /** The event id, or `#` + a hash prefix when the id is too long to store as is. */
  eventKey: string;
}

/** The part of a connection the stale-event guard reads. */
export interface GuardedConnection {
  id: string;
  staleGuard?: { enabled?: boolean; attribute?: string } | undefined;
  mapping: { customAttributeType?: string | undefined };
}

/**
 * The connection's stale-event guard, or undefined when it is off. Off by default where the source
 * knows only the delivery time (the source's definition says so): ordering by delivery time would
 * let a retried old change win over a newer one.
 */
export const staleGuardOf = (
  connection: GuardedConnection,
  suppliesEventTime: boolean,
): StaleGuard | undefined => {
  const enabled = connection.staleGuard?.enabled ?? suppliesEventTime;
  if (!enabled) return undefined;
  return {
    attribute: connection.staleGuard?.attribute ?? defaultStaleGuardAttribute(connection.id),
    type: connection.mapping.customAttributeType ?? 'STRING',
  };
};

export type StaleVerdict = 'newer' | 'stale' | 'duplicate';

const VERSION = 'v1';
// Custom attribute values are short strings in CIAM; long sender ids are hashed to fit.
const MAX_PLAIN_ID = 64;

export const eventKeyOf = (eventId: string): string =>
  eventId.length <= MAX_PLAIN_ID && !eventId.startsWith('#') && !eventId.includes(';')
    ? eventId
    : `#${sha256Hex(eventId).slice(0, 32)}`;

export const formatAppliedMark = (mark: AppliedMark): string =>
  `${VERSION};${mark.occurredAtMs};${mark.eventKey}`;

/** Undefined when the attribute is absent or not ours: the change then applies and rewrites it. */
export const parseAppliedMark = (value: string | undefined): AppliedMark | undefined => {
  if (value === undefined) return undefined;
  const [version, time, eventKey, ...rest] = value.split(';');
  if (version !== VERSION || rest.length > 0 || eventKey === undefined || eventKey === '') {
    return undefined;
  }
  if (time === undefined || !/^-?\d{1,16}$/.test(time)) return undefined;
  return { occurredAtMs: Number(time), eventKey };
};

/**
 * Default attribute name: one per connection, so two sources' clocks never compare. The
 * `adapter_watermark_` prefix is an older name of the guard, kept because deployed user stores
 * define attributes by this name.
 */
export const defaultStaleGuardAttribute = (connectionId: string): string =>
  `adapter_watermark_${connectionId.replace(/[^A-Za-z0-9_]/g, '_')}`;

export const readAppliedMark = (
  attributes: readonly MemberMap[] | undefined,
  name: string,
): AppliedMark | undefined =>
  parseAppliedMark(attributes?.find((item) => item.Name === name)?.Value);

/**
 * Older than the applied mark: stale. Same event, or the same instant: duplicate (two changes
 * stamped with one time cannot be ordered, so the first applied wins).
 */
export const verdictOf = (change: AppliedMark, current: AppliedMark | undefined): StaleVerdict => {
  if (current === undefined) return 'newer';
  if (change.eventKey === current.eventKey) return 'duplicate';
  if (change.occurredAtMs < current.occurredAtMs) return 'stale';
  if (change.occurredAtMs === current.occurredAtMs) return 'duplicate';
  return 'newer';
};
