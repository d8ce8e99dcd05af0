import { hash } from 'node:crypto';
import type { MemberMap } from './types.ts';
import type { UpdateUserDraft } from './update-user-fields.ts';

/**
 * Field clocks: for each CIAM field the adapter writes, the change that last set it (its event
 * time, connection and event), shared by every connection of a user store and kept in one CIAM
 * custom attribute of the user. A change sets a field only where it is newer than the field's
 * clock, so every order of the same changes ends in the same user.
 *
 * The order of two changes to one field is total, so that it does not matter which arrives first:
 * 1. authority, where the user store ranks connections for the field (a higher rank wins);
 * 2. event time (epoch milliseconds);
 * 3. on equal times, the connection tag, then the event tag, compared as strings. Arbitrary, but
 *    the same on every instance, so both orders of a tie end with the same winner.
 * The same event of the same connection again is a duplicate.
 */

/** A clock: what last set a field. Tags are short hashes, so clocks fit one custom attribute. */
export interface Clock {
  /** Epoch milliseconds of the change at the source (or when the adapter received it). */
  at: number;
  /** connectionTag(connection id). */
  connection: string;
  /** eventTag(event id). */
  event: string;
  /** Group memberships only: whether the change made the user a member (false: a removal). */
  member?: boolean;
}

/**
 * A field the clocks cover: the UpdateUser field name, or `~` + customTag(name) for a custom
 * attribute (custom attribute names are free-form; their tag keeps the encoding short).
 */
export type ClockField = string;

export const CLOCKED_FIELDS = [
  'UserName',
  'PhoneNumber',
  'Email',
  'Nickname',
  'Address',
  'Birthdate',
  'IndexedAttribute1',
  'IndexedAttribute2',
  'IndexedAttribute3',
  'IndexedAttribute4',
  'IndexedAttribute5',
] as const satisfies readonly (keyof UpdateUserDraft)[];

export type ClockedField = (typeof CLOCKED_FIELDS)[number];

/** One letter each in the encoding. */
const FIELD_CODES: Readonly<Record<ClockedField, string>> = {
  UserName: 'u',
  PhoneNumber: 'p',
  Email: 'e',
  Nickname: 'n',
  Address: 'a',
  Birthdate: 'b',
  IndexedAttribute1: '1',
  IndexedAttribute2: '2',
  IndexedAttribute3: '3',
  IndexedAttribute4: '4',
  IndexedAttribute5: '5',
};

const IS_CLOCKED = new Set<string>(CLOCKED_FIELDS);

const FIELD_OF_CODE = new Map(
  Object.entries(FIELD_CODES).map(([field, code]) => [code, field as ClockedField]),
);

const CUSTOM_PREFIX = '~';
const GROUP_PREFIX = '@';
/**
 * The membership floor: the newest membership clock compacted away (see compactMemberships). A
 * group with no clock of its own has this one.
 */
export const MEMBERSHIP_FLOOR: ClockField = '^';

// One-shot hash: these run on every change, and it is about twice as fast as createHash().
const digest = (text: string): Buffer => hash('sha256', text, 'buffer');

/**
 * 30 bits of the connection id: the connections of one user store are few, and the config loader
 * refuses two of them whose tags collide.
 */
export const connectionTag = (connectionId: string): string =>
  digest(`connection:${connectionId}`).subarray(0, 4).toString('base64url').slice(0, 5);

/**
 * 48 bits of the event id: enough to tell one event from another on the same field and connection.
 * An id stored by the per-connection guard of earlier versions as `#<hex of its SHA-256>` gives the
 * same tag, so its duplicates are still recognised.
 */
export const eventTag = (eventId: string): string => {
  if (/^#[0-9a-f]{12,}$/.test(eventId)) {
    return Buffer.from(eventId.slice(1, 13), 'hex').toString('base64url');
  }
  return digest(eventId).subarray(0, 6).toString('base64url');
};

/** 36 bits of a custom attribute's name. */
export const customTag = (name: string): string =>
  digest(`custom:${name}`).subarray(0, 6).toString('base64url').slice(0, 6);

// Custom attribute names are few and repeat on every change: hashing each once is enough.
const customFields = new Map<string, ClockField>();
const MAX_CACHED_NAMES = 1024;

export const customField = (name: string): ClockField => {
  let field = customFields.get(name);
  if (field === undefined) {
    field = `${CUSTOM_PREFIX}${customTag(name)}`;
    if (customFields.size >= MAX_CACHED_NAMES) customFields.clear();
    customFields.set(name, field);
  }
  return field;
};

/** A CIAM group membership as a clocked field: `@` + 36 bits of the group id. */
export const groupField = (groupId: string): ClockField =>
  `${GROUP_PREFIX}${digest(`group:${groupId}`).subarray(0, 6).toString('base64url').slice(0, 6)}`;

export type FieldClocks = ReadonlyMap<ClockField, Clock>;

const VERSION = '2';
const SEPARATOR = '|';

/**
 * `2|<clock>,<clock>…|<field><index>,…`: each distinct clock once (a snapshot sets every field
 * with one), each clock as `<time base 36>.<connection tag>.<event tag>`, each field as its code
 * (or `~<custom tag>`) and the index of its clock in base 36. Fields in a fixed order, so equal
 * clocks always encode alike.
 */
export const encodeClocks = (clocks: FieldClocks): string => {
  const distinct: string[] = [];
  const indexOf = new Map<string, number>();
  const fields: string[] = [];
  const custom: ClockField[] = [];
  const groups: ClockField[] = [];
  for (const field of clocks.keys()) {
    if (field.startsWith(CUSTOM_PREFIX)) custom.push(field);
    else if (field.startsWith(GROUP_PREFIX)) groups.push(field);
  }
  // A fixed order (standard fields as listed, then custom ones, then groups, each sorted, then the
  // membership floor), so equal clocks always encode alike.
  const order = [
    ...CLOCKED_FIELDS.filter((field) => clocks.has(field)),
    ...custom.sort(),
    ...groups.sort(),
    ...(clocks.has(MEMBERSHIP_FLOOR) ? [MEMBERSHIP_FLOOR] : []),
  ];
  for (const field of order) {
    const clock = clocks.get(field);
    if (clock === undefined) continue;
    const text = `${clock.at.toString(36)}.${clock.connection}.${clock.event}`;
    let index = indexOf.get(text);
    if (index === undefined) {
      index = distinct.length;
      distinct.push(text);
      indexOf.set(text, index);
    }
    const code = field.startsWith(CUSTOM_PREFIX)
      ? field
      : field.startsWith(GROUP_PREFIX)
        ? `${clock.member === false ? '-' : '+'}${field.slice(1)}`
        : field === MEMBERSHIP_FLOOR
          ? field
          : FIELD_CODES[field as ClockedField];
    if (code === undefined) continue;
    fields.push(`${code}${index.toString(36)}`);
  }
  return [VERSION, distinct.join(','), fields.join(',')].join(SEPARATOR);
};

const CLOCK = /^(-?[0-9a-z]{1,12})\.([A-Za-z0-9_-]{5})\.([A-Za-z0-9_-]{8})$/;
const FIELD = /^(~[A-Za-z0-9_-]{6}|[+-][A-Za-z0-9_-]{6}|\^|[upenab1-5])([0-9a-z]{1,2})$/;

/**
 * Empty when the value is absent or not ours: nothing is then known, and the next change writes
 * every field it carries (as on a user the adapter never wrote).
 */
export const decodeClocks = (value: string | undefined): Map<ClockField, Clock> => {
  const clocks = new Map<ClockField, Clock>();
  if (value === undefined) return clocks;
  const [version, clockList, fieldList, ...rest] = value.split(SEPARATOR);
  if (version !== VERSION || clockList === undefined || fieldList === undefined) return clocks;
  if (rest.length > 0) return clocks;
  const parsed: Clock[] = [];
  for (const text of clockList === '' ? [] : clockList.split(',')) {
    const match = CLOCK.exec(text);
    if (match === null) return new Map();
    const [, at = '', connection = '', event = ''] = match;
    parsed.push({ at: Number.parseInt(at, 36), connection, event });
  }
  for (const text of fieldList === '' ? [] : fieldList.split(',')) {
    const match = FIELD.exec(text);
    if (match === null) return new Map();
    const [, code = '', index = ''] = match;
    const clock = parsed[Number.parseInt(index, 36)];
    if (clock === undefined) return new Map();
    if (code.startsWith('+') || code.startsWith('-')) {
      clocks.set(`${GROUP_PREFIX}${code.slice(1)}`, { ...clock, member: code.startsWith('+') });
      continue;
    }
    const field =
      code.startsWith(CUSTOM_PREFIX) || code === MEMBERSHIP_FLOOR ? code : FIELD_OF_CODE.get(code);
    if (field !== undefined) clocks.set(field, clock);
  }
  return clocks;
};

/**
 * The longest encoding `fields` clocked fields can take: every field set by a different change.
 * Times up to the year 5138 (9 base-36 digits).
 */
export const maxEncodedLength = (standardFields: number, customFields: number): number => {
  // One more clock for the membership floor, which memberships can always be folded into.
  const clocks = standardFields + customFields + 1;
  const clockChars = 9 + 1 + 5 + 1 + 8;
  const indexChars = clocks > 36 ? 2 : 1;
  return (
    VERSION.length +
    2 +
    clocks * (clockChars + 1) +
    standardFields * (1 + indexChars + 1) +
    customFields * (7 + indexChars + 1) +
    (1 + indexChars + 1)
  );
};

/**
 * CIAM documents no length limit for custom attribute values; its indexed attributes stop at 512
 * characters, and the clocks stay within that.
 */
export const MAX_CLOCKS_CHARS = 512;

export type FieldVerdict = 'newer' | 'stale' | 'duplicate' | 'not_authoritative';

/**
 * How the user store ranks connections for a field: the connection tags in order of precedence,
 * or undefined where any connection may set the field.
 */
export type AuthorityOf = (field: ClockField) => readonly string[] | undefined;

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Where a change stands against a field's clock. Authority first (a connection not listed may
 * never set the field; a lower rank never overwrites a higher one's value), then time, then tags.
 */
export const verdictFor = (
  change: Clock,
  current: Clock | undefined,
  ranks: readonly string[] | undefined,
): FieldVerdict => {
  const rank = (connection: string) => {
    const index = ranks?.indexOf(connection) ?? -1;
    return index < 0 ? Number.POSITIVE_INFINITY : index;
  };
  if (ranks !== undefined && !ranks.includes(change.connection)) return 'not_authoritative';
  if (current === undefined) return 'newer';
  if (current.connection === change.connection && current.event === change.event) {
    return 'duplicate';
  }
  if (ranks !== undefined) {
    const mine = rank(change.connection);
    const theirs = rank(current.connection);
    if (mine < theirs) return 'newer';
    if (mine > theirs) return 'not_authoritative';
  }
  const order =
    change.at - current.at ||
    compareStrings(change.connection, current.connection) ||
    compareStrings(change.event, current.event);
  return order > 0 ? 'newer' : 'stale';
};

/** The clocked fields a draft carries: its standard fields, then its custom attributes. */
export const clockFieldsOf = (draft: Partial<UpdateUserDraft>): ClockField[] => {
  const fields: ClockField[] = [];
  for (const field of CLOCKED_FIELDS) if (draft[field] !== undefined) fields.push(field);
  for (const item of draft.CustomizationAttributes ?? []) fields.push(customField(item.Name));
  return fields;
};

/** The custom attributes a draft writes, each as its clocked field. */
export const customFieldsOf = (
  attributes: readonly MemberMap[] | undefined,
): Map<ClockField, MemberMap> => {
  const fields = new Map<ClockField, MemberMap>();
  for (const item of attributes ?? []) fields.set(customField(item.Name), item);
  return fields;
};

/** A field as answers and logs name it: the UpdateUser field, or `custom:<name>`. */
export type FieldName = string;

export interface FieldWritePlan {
  /** The draft with only the fields to write (custom attributes too). */
  draft: UpdateUserDraft;
  /** Fields written, by name. */
  written: FieldName[];
  /** Fields the change carried but does not write, and why. */
  skipped: { field: FieldName; verdict: Exclude<FieldVerdict, 'newer'> }[];
  /** The clocks after the write. */
  clocks: Map<ClockField, Clock>;
}

/**
 * Which of the draft's fields a change sets, field by field against the user's clocks. Fields the
 * clocks do not cover (UserGroup, UserOrg) go through as they are.
 */
export const planFieldWrite = (
  draft: UpdateUserDraft,
  change: Clock,
  current: FieldClocks,
  authorityOf: AuthorityOf,
): FieldWritePlan => {
  const clocks = new Map(current);
  const written: FieldName[] = [];
  const skipped: FieldWritePlan['skipped'] = [];
  const out: Record<string, unknown> = {};
  const judge = (field: ClockField, name: FieldName): boolean => {
    const verdict = verdictFor(change, current.get(field), authorityOf(field));
    if (verdict === 'newer') {
      clocks.set(field, change);
      written.push(name);
      return true;
    }
    skipped.push({ field: name, verdict });
    return false;
  };
  for (const [key, value] of Object.entries(draft)) {
    if (value === undefined) continue;
    if (key === 'CustomizationAttributes') continue;
    if (IS_CLOCKED.has(key)) {
      if (judge(key, key)) out[key] = value;
    } else {
      out[key] = value;
    }
  }
  const kept: MemberMap[] = [];
  for (const item of draft.CustomizationAttributes ?? []) {
    if (judge(customField(item.Name), `custom:${item.Name}`)) kept.push(item);
  }
  if (kept.length > 0) out.CustomizationAttributes = kept;
  return { draft: out as UpdateUserDraft, written, skipped, clocks };
};

/** A membership a change sets: the CIAM group, and whether the user is now a member of it. */
export interface MembershipChange {
  groupId: string;
  member: boolean;
}

export interface MembershipPlan {
  /** The user's groups after the change; undefined when they stay as they are. */
  groups: string[] | undefined;
  written: FieldName[];
  skipped: { field: FieldName; verdict: Exclude<FieldVerdict, 'newer'> }[];
  clocks: Map<ClockField, Clock>;
}

/**
 * Memberships are elements of a set, each with its own clock: adding a group never drops the
 * user's other groups, removing one removes only it, and a late, older add never undoes a newer
 * removal (the removal's clock stays behind as a tombstone), nor the reverse.
 */
export const planMemberships = (
  memberships: readonly MembershipChange[],
  change: Clock,
  current: FieldClocks,
  authorityOf: AuthorityOf,
  groupsNow: readonly string[],
): MembershipPlan => {
  const clocks = new Map(current);
  const groups = new Set(groupsNow);
  const written: FieldName[] = [];
  const skipped: MembershipPlan['skipped'] = [];
  let changed = false;
  for (const { groupId, member } of memberships) {
    const field = groupField(groupId);
    const name = `group:${groupId}`;
    const held = clocks.get(field) ?? clocks.get(MEMBERSHIP_FLOOR);
    const verdict = verdictFor(change, held, authorityOf('UserGroup'));
    if (verdict !== 'newer') {
      skipped.push({ field: name, verdict });
      continue;
    }
    clocks.set(field, { ...change, member });
    written.push(name);
    if (member && !groups.has(groupId)) {
      groups.add(groupId);
      changed = true;
    } else if (!member && groups.delete(groupId)) {
      changed = true;
    }
  }
  return { groups: changed ? [...groups] : undefined, written, skipped, clocks };
};

const raiseFloor = (floor: Clock | undefined, clock: Clock): Clock => {
  const { member: _member, ...bare } = clock;
  return floor === undefined || verdictFor(bare, floor, undefined) === 'newer' ? bare : floor;
};

/**
 * Keeps the encoding short however many groups a user has: membership clocks older than
 * `horizonMs` are folded into the membership floor; then, while the encoding is longer than
 * `maxChars`, the oldest membership clocks are folded too. A group without a clock of its own is
 * judged against the floor, so folding never lets an older change win: the cost is that a change
 * older than the floor (delayed past every sender's retry window, or behind that many newer
 * membership changes of the same user) is answered stale even where its own group's clock was
 * older. Fields other than memberships are never folded.
 */
export const compactMemberships = (
  clocks: ReadonlyMap<ClockField, Clock>,
  horizonMs: number,
  maxChars = MAX_CLOCKS_CHARS,
): Map<ClockField, Clock> => {
  const out = new Map<ClockField, Clock>();
  let floor = clocks.get(MEMBERSHIP_FLOOR);
  const recent: [ClockField, Clock][] = [];
  for (const [field, clock] of clocks) {
    if (field === MEMBERSHIP_FLOOR) continue;
    if (!field.startsWith(GROUP_PREFIX)) out.set(field, clock);
    else if (clock.at < horizonMs) floor = raiseFloor(floor, clock);
    else recent.push([field, clock]);
  }
  // Newest first: the ones kept longest.
  recent.sort(([, a], [, b]) => (verdictFor(a, b, undefined) === 'newer' ? -1 : 1));
  const withGroups = (kept: number) => {
    const result = new Map(out);
    let lowest = floor;
    for (const [index, [field, clock]] of recent.entries()) {
      if (index < kept) result.set(field, clock);
      else lowest = raiseFloor(lowest, clock);
    }
    if (lowest !== undefined) result.set(MEMBERSHIP_FLOOR, lowest);
    return result;
  };
  let kept = recent.length;
  let result = withGroups(kept);
  while (kept > 0 && encodeClocks(result).length > maxChars) {
    kept -= 1;
    result = withGroups(kept);
  }
  return result;
};
