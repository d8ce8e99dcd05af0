import {
  type AuthorityOf,
  type Clock,
  type ClockField,
  connectionTag,
  decodeClocks,
  eventTag,
} from './field-clocks.ts';
import type { MemberMap } from './types.ts';

/**
 * The stale-event guard of one connection: the field clocks of its user store (field-clocks.ts),
 * kept in one custom attribute of each user and shared by every connection of the store, and the
 * per-connection marks earlier versions kept, read as clocks so the users they protected stay
 * protected until the next change writes the clocks.
 */
export interface StaleGuard {
  /** The user store's clocks attribute. */
  attribute: string;
  /** `Type` sent with the attribute (the mapping's customAttributeType). */
  type: string;
  /** This connection's tag in the clocks. */
  connection: string;
  /** The user store's field authority, as connection tags. */
  authorityOf: AuthorityOf;
  /** Marks of earlier versions, one per connection of the store that kept one. */
  legacy: readonly LegacyMark[];
}

/** Where earlier versions kept one connection's mark, and the fields that connection maps. */
export interface LegacyMark {
  attribute: string;
  /** The connection's tag. */
  connection: string;
  covers: (field: ClockField) => boolean;
}

/** The clocks attribute a user store uses unless its config names another. */
export const DEFAULT_CLOCKS_ATTRIBUTE = 'adapter_field_clocks';

/** What an earlier version stored: the last change one connection applied to the user. */
export interface AppliedMark {
  /** Epoch milliseconds of the change at the source. */
  occurredAtMs: number;
  /** The event id, or `#` + a hash prefix when the id was too long to store as is. */
  eventKey: string;
}

/** Where an earlier version kept a connection's mark unless its config named another. */
export const legacyMarkAttribute = (connectionId: string): string =>
  `adapter_watermark_${connectionId.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Undefined when the attribute is absent or not a mark. */
export const parseAppliedMark = (value: string | undefined): AppliedMark | undefined => {
  if (value === undefined) return undefined;
  const [version, time, eventKey, ...rest] = value.split(';');
  if (version !== 'v1' || rest.length > 0 || eventKey === undefined || eventKey === '') {
    return undefined;
  }
  if (time === undefined || !/^-?\d{1,16}$/.test(time)) return undefined;
  return { occurredAtMs: Number(time), eventKey };
};

const attributeValue = (attributes: readonly MemberMap[] | undefined, name: string) =>
  attributes?.find((item) => item.Name === name)?.Value;

const later = (a: Clock | undefined, b: Clock): Clock => (a === undefined || b.at > a.at ? b : a);

/**
 * The user's clocks for the fields a change carries: the stored clocks, and for a field they do
 * not cover yet, the newest earlier-version mark of a connection that maps it.
 */
export const readClocks = (
  attributes: readonly MemberMap[] | undefined,
  guard: StaleGuard,
  carried: readonly ClockField[],
): Map<ClockField, Clock> => {
  const clocks = decodeClocks(attributeValue(attributes, guard.attribute));
  const marks = guard.legacy.flatMap((legacy) => {
    const mark = parseAppliedMark(attributeValue(attributes, legacy.attribute));
    if (mark === undefined) return [];
    const clock = {
      at: mark.occurredAtMs,
      connection: legacy.connection,
      event: eventTag(mark.eventKey),
    };
    return [{ legacy, clock }];
  });
  if (marks.length === 0) return clocks;
  for (const field of carried) {
    if (clocks.has(field)) continue;
    let clock: Clock | undefined;
    for (const { legacy, clock: mark } of marks) {
      if (legacy.covers(field)) clock = later(clock, mark);
    }
    if (clock !== undefined) clocks.set(field, clock);
  }
  return clocks;
};

/** The clock a change sets: its event time, its connection and its event. */
export const clockOf = (
  guard: Pick<StaleGuard, 'connection'>,
  change: { eventId: string; occurredAt: string },
): Clock | undefined => {
  const at = Date.parse(change.occurredAt);
  if (!Number.isFinite(at)) return undefined;
  return { at, connection: guard.connection, event: eventTag(change.eventId) };
};

export { connectionTag };
