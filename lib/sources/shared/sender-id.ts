import { payloadInvalid } from './validation.ts';

/**
 * The longest id a sender may choose (event ids, delivery ids, and any header value a source
 * echoes back or logs). Such values are echoed in replies, written to logs and used as dedupe
 * keys, so an unbounded one (a 12 KB `svix-id`) would be copied everywhere. Real ids are far
 * shorter: `msg_…`, `evt_…`, `event_…`, UUIDs.
 */
export const MAX_SENDER_ID_LENGTH = 256;

/** JSON Schema for an id inside a payload; ajv then names the field in the 400 details. */
export const SENDER_ID_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_SENDER_ID_LENGTH,
} as const;

/** Counts code points, as ajv's `maxLength` does, so header and payload ids share one limit. */
const lengthOf = (value: string): number =>
  value.length <= MAX_SENDER_ID_LENGTH ? value.length : [...value].length;

/**
 * For ids read outside a schema (headers, JSONata results): the value, or 400 PAYLOAD_INVALID
 * whose detail names `path` (e.g. `/headers/svix-id`) and never quotes the value.
 */
export const checkSenderId = (value: string, path: string): string => {
  if (lengthOf(value) > MAX_SENDER_ID_LENGTH) {
    throw payloadInvalid([
      { path, message: `must NOT have more than ${MAX_SENDER_ID_LENGTH} characters` },
    ]);
  }
  return value;
};
