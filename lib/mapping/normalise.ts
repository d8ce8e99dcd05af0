import { normalisePhone, type PhoneOptions } from '../ciam/phone.ts';
import type { MemberMap, UpdateUserDraft, UpdateUserField } from '../ciam/types.ts';
import { codePointLength, maxCharsOf } from '../ciam/update-user-fields.ts';
import { isRecord } from '../is-record.ts';

/**
 * A normaliser's answer. `value: undefined` means "leave the field out of the request".
 * `reason` never contains the value: values are personal data.
 */
export type Normalised<T> = { ok: true; value: T | undefined } | { ok: false; reason: string };

export interface NormaliseOptions {
  /** PhoneNumber's region (checked by `compileMapping`) and format; resolution uses the same. */
  phone: PhoneOptions;
  customAttributeType: string;
}

// Keys that would reach Object.prototype if a consumer rebuilt an object from the Names.
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

const MIN_YEAR = 1800;
const MAX_YEAR = 9999;
const DAY_MS = 86_400_000;

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2}):?(\d{2}))?)?$/;

const ok = <T>(value: T | undefined): Normalised<T> => ({ ok: true, value });
const fail = <T>(reason: string): Normalised<T> => ({ ok: false, reason });

/** Strings are trimmed and blanks dropped (never send ''); finite numbers become strings. */
const normaliseText = (value: unknown): Normalised<string> => {
  if (value === undefined || value === null) return ok(undefined);
  if (typeof value === 'number' && Number.isFinite(value)) return ok(String(value));
  if (typeof value !== 'string') return fail('expected a string');
  const trimmed = value.trim();
  return ok(trimmed === '' ? undefined : trimmed);
};

/** Text rules per element; a lone string counts as a one-element list (JSONata unwraps singletons). */
const normaliseStringList = (value: unknown): Normalised<string[]> => {
  if (value === undefined || value === null) return ok(undefined);
  const items = Array.isArray(value) ? value : [value];
  const out = new Set<string>();
  for (const item of items) {
    const text = normaliseText(item);
    if (!text.ok) return fail('expected an array of strings');
    if (text.value !== undefined) out.add(text.value);
  }
  // An empty list is left out rather than sent: whether CIAM clears the field on [] is undocumented.
  return ok(out.size === 0 ? undefined : [...out]);
};

const utcMidnight = (year: number, month: number, day: number): number | undefined => {
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC rolls 2023-02-30 over to March; a round trip catches it.
  return date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
    ? ms
    : undefined;
};

const inRange = (part: string | undefined, max: number): boolean =>
  part === undefined || Number(part) <= max;

/**
 * To epoch milliseconds at UTC midnight of the birth date (CIAM's Birthdate is int64 ms).
 * - `YYYY-MM-DD`: that date.
 * - ISO date-time (`YYYY-MM-DDTHH:mm[:ss[.fff]][Z|±hh:mm]`): the calendar date as written. A
 *   birthdate is a date, not an instant: `1990-05-01T00:00+08:00` is 1 May, not 30 April UTC.
 * - integer: epoch milliseconds (not seconds), truncated to its UTC date.
 * Years outside 1800..9999 are refused; there is no "future" check, so the result needs no clock.
 */
export const normaliseBirthdate = (value: unknown): Normalised<number> => {
  if (value === undefined || value === null) return ok(undefined);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return fail('expected integer epoch milliseconds');
    const year = new Date(value).getUTCFullYear();
    // Also catches values beyond Date's range, whose year is NaN.
    if (!(year >= MIN_YEAR && year <= MAX_YEAR))
      return fail(`year outside ${MIN_YEAR}..${MAX_YEAR}`);
    // `+ 0` turns -0 (JSON.parse('-0') yields it) into 0.
    return ok(Math.floor(value / DAY_MS) * DAY_MS + 0);
  }
  if (typeof value !== 'string') return fail('expected an ISO date or epoch milliseconds');
  const text = value.trim();
  if (text === '') return ok(undefined);
  const match = ISO_DATE.exec(text);
  if (match === null) return fail('expected an ISO date (YYYY-MM-DD) or date-time');
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = match;
  if (
    !inRange(hour, 23) ||
    !inRange(minute, 59) ||
    !inRange(second, 60) ||
    !inRange(offsetHour, 23) ||
    !inRange(offsetMinute, 59)
  ) {
    return fail('expected an ISO date (YYYY-MM-DD) or date-time');
  }
  const ms = utcMidnight(Number(year), Number(month), Number(day));
  if (ms === undefined) return fail('not a calendar date');
  if (Number(year) < MIN_YEAR) return fail(`year outside ${MIN_YEAR}..${MAX_YEAR}`);
  return ok(ms);
};

/**
 * JSON.stringify would write a non-finite number as `null` and throws a RangeError on very deep
 * input; both are the sender's data problems, reported as such rather than as a 500.
 */
const toJson = (value: object): string | undefined => {
  try {
    return JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'number' && !Number.isFinite(item)) throw new RangeError('non-finite');
      return item;
    });
  } catch {
    return undefined;
  }
};

/** String values as is; numbers and booleans via String(); objects and arrays as JSON. */
const attributeValue = (value: unknown): Normalised<string> => {
  if (value === undefined || value === null) return ok(undefined);
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean') text = String(value);
  else if (typeof value === 'number') {
    // JSON numbers such as 1e400 parse to Infinity; "Infinity" is not what the sender meant.
    if (!Number.isFinite(value)) return fail('expected a finite number');
    text = String(value);
  } else if (typeof value === 'object') {
    const json = toJson(value);
    if (json === undefined) return fail('expected JSON without infinite numbers or deep nesting');
    text = json;
  }
  // A JSONata function would otherwise be sent as its source text.
  else return fail('expected attribute values that are strings, numbers, booleans or JSON');
  return ok(text.trim() === '' ? undefined : text);
};

/**
 * From a flat object (`{tier: 'gold'}`) or from MemberMap items (`[{Name, Value, Type?}]`), sorted
 * by Name so equal inputs give byte-equal requests. A single MemberMap must be wrapped in an array:
 * an object is always read as name → value.
 */
export const normaliseCustomAttributes = (
  value: unknown,
  type: string,
): Normalised<MemberMap[]> => {
  if (value === undefined || value === null) return ok(undefined);
  const items: MemberMap[] = [];
  if (Array.isArray(value)) {
    const seen = new Set<string>();
    for (const item of value) {
      if (
        !isRecord(item) ||
        typeof item.Name !== 'string' ||
        (item.Type !== undefined && typeof item.Type !== 'string')
      ) {
        return fail('expected an object or an array of {Name, Value, Type?}');
      }
      if (seen.has(item.Name)) return fail('duplicate Name');
      seen.add(item.Name);
      const text = attributeValue(item.Value);
      if (!text.ok) return text;
      if (item.Name.trim() === '' || UNSAFE_NAMES.has(item.Name) || text.value === undefined) {
        continue;
      }
      const itemType = typeof item.Type === 'string' && item.Type.trim() !== '' ? item.Type : type;
      items.push({ Name: item.Name, Value: text.value, Type: itemType });
    }
  } else if (isRecord(value)) {
    for (const [name, raw] of Object.entries(value)) {
      const text = attributeValue(raw);
      if (!text.ok) return text;
      if (name.trim() === '' || UNSAFE_NAMES.has(name) || text.value === undefined) continue;
      items.push({ Name: name, Value: text.value, Type: type });
    }
  } else {
    return fail('expected an object or an array of {Name, Value, Type?}');
  }
  // Code-unit order, not localeCompare: the result must not depend on the runtime's locale.
  items.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return ok(items.length === 0 ? undefined : items);
};

/** Normalises and type-checks one UpdateUser field's value, whether from the defaults or JSONata. */
export const normaliseField = <F extends UpdateUserField>(
  field: F,
  value: unknown,
  options: NormaliseOptions,
): Normalised<NonNullable<UpdateUserDraft[F]>> => {
  let result: Normalised<unknown>;
  switch (field) {
    case 'PhoneNumber':
      result = normalisePhone(value, options.phone);
      break;
    case 'Birthdate':
      result = normaliseBirthdate(value);
      break;
    case 'UserGroup':
    case 'UserOrg':
      result = normaliseStringList(value);
      break;
    case 'CustomizationAttributes':
      result = normaliseCustomAttributes(value, options.customAttributeType);
      break;
    default:
      result = normaliseText(value);
  }
  // Refused, not truncated: a cut external id would silently match the wrong user later. Code
  // points, as the request schema (ajv) and CIAM count them.
  const max = maxCharsOf(field);
  if (
    max !== undefined &&
    result.ok &&
    typeof result.value === 'string' &&
    codePointLength(result.value) > max
  ) {
    result = fail(`longer than ${max} characters`);
  }
  return result as Normalised<NonNullable<UpdateUserDraft[F]>>;
};
