import { isRecord } from '../../is-record.ts';
import type { InboundRequest } from '../types.ts';

/** Keys that would reach a prototype if copied onto a plain object. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Largest epoch ms a JS Date can hold; schemas cap timestamps with it. */
export const MAX_EPOCH_MS = 8.64e15;

/** Own-property lookup: a header named `constructor` must not find Object.prototype. */
export const header = (request: InboundRequest, name: string): string | undefined => {
  if (!Object.hasOwn(request.headers, name)) return undefined;
  const value = request.headers[name]?.trim();
  return value === '' ? undefined : value;
};

export { isRecord };

/**
 * Shallow copy of a sender's free-form map (Clerk public_metadata, WorkOS custom_attributes).
 * JSON.parse makes `__proto__` an own key; assigning it to a plain object would swap that
 * object's prototype, so such keys are dropped.
 */
export const copySafeRecord = (value: unknown): Record<string, unknown> | undefined => {
  if (!isRecord(value)) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!UNSAFE_KEYS.has(key)) copy[key] = entry;
  }
  return copy;
};

/** Epoch ms or a parseable date string to ISO-8601; anything else (or out of range) → undefined. */
export const toIsoTime = (value: unknown): string | undefined => {
  const ms =
    typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS) return undefined;
  return new Date(ms).toISOString();
};

export const nonEmpty = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** `first last` trimmed, or undefined when both are blank. */
export const joinName = (first: unknown, last: unknown): string | undefined =>
  nonEmpty([nonEmpty(first) ?? '', nonEmpty(last) ?? ''].join(' ').trim());

/** Drops undefined values so results satisfy `exactOptionalPropertyTypes`. */
export const definedOnly = <T extends Record<string, unknown>>(
  value: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } => {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (entry !== undefined) out[key] = entry;
  }
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
};
