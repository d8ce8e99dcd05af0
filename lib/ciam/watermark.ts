import { createHash } from 'node:crypto';
import type { MemberMap } from './types.ts';

/**
 * The per-user, per-connection watermark: the (event time, event id) of the last change this
 * connection applied to the user, kept in a CIAM custom attribute so no other datastore is needed.
 * A change at or before it is stale or a duplicate and is skipped rather than written.
 */
export interface Watermark {
  /** Epoch milliseconds of the change at the source. */
  occurredAtMs: number;
  /** The event id, or `#` + a hash prefix when the id is too long to store as is. */
  eventKey: string;
}

export type WatermarkVerdict = 'newer' | 'stale' | 'duplicate';

const VERSION = 'v1';
// Custom attribute values are short strings in CIAM; long sender ids are hashed to fit.
const MAX_PLAIN_ID = 64;

export const eventKeyOf = (eventId: string): string =>
  eventId.length <= MAX_PLAIN_ID && !eventId.startsWith('#') && !eventId.includes(';')
    ? eventId
    : `#${createHash('sha256').update(eventId).digest('hex').slice(0, 32)}`;

export const formatWatermark = (mark: Watermark): string =>
  `${VERSION};${mark.occurredAtMs};${mark.eventKey}`;

/** Undefined when the attribute is absent or not ours: the change then applies and rewrites it. */
export const parseWatermark = (value: string | undefined): Watermark | undefined => {
  if (value === undefined) return undefined;
  const [version, time, eventKey, ...rest] = value.split(';');
  if (version !== VERSION || rest.length > 0 || eventKey === undefined || eventKey === '') {
    return undefined;
  }
  if (time === undefined || !/^-?\d{1,16}$/.test(time)) return undefined;
  return { occurredAtMs: Number(time), eventKey };
};

/** Default attribute name: one per connection, so two sources' clocks never compare. */
export const defaultWatermarkAttribute = (connectionId: string): string =>
  `adapter_watermark_${connectionId.replace(/[^A-Za-z0-9_]/g, '_')}`;

export const readWatermark = (
  attributes: readonly MemberMap[] | undefined,
  name: string,
): Watermark | undefined => parseWatermark(attributes?.find((item) => item.Name === name)?.Value);

/**
 * Older than the watermark: stale. Same event, or the same instant (the rule: two changes
 * stamped with one time cannot be ordered, the first applied wins): duplicate.
 */
export const judge = (change: Watermark, current: Watermark | undefined): WatermarkVerdict => {
  if (current === undefined) return 'newer';
  if (change.eventKey === current.eventKey) return 'duplicate';
  if (change.occurredAtMs < current.occurredAtMs) return 'stale';
  if (change.occurredAtMs === current.occurredAtMs) return 'duplicate';
  return 'newer';
};

/**
 * UpdateUser's CustomizationAttributes may replace the user's whole list (the API page does not
 * say; the emulator does), so every write sends the current list with the changes laid over it:
 * nothing the user already had is dropped.
 */
export const mergeCustomAttributes = (
  current: readonly MemberMap[] | undefined,
  updates: readonly MemberMap[],
): MemberMap[] => {
  const merged = new Map<string, MemberMap>();
  for (const item of current ?? []) merged.set(item.Name, { ...item });
  for (const item of updates) merged.set(item.Name, { ...item });
  return [...merged.values()];
};
