/**
 * The one definition of CIAM 2022-03-31 UpdateUser's fields, as Tencent Cloud's UpdateUser API page
 * lists them. The request and draft types, their ajv schemas (update-user-schema.ts), the fields a
 * mapping may set and the config schema's field names are all derived from `UPDATE_USER_FIELDS`.
 *
 * Kept free of runtime imports: lib/config loads it at cold start for the field list.
 */

/** CIAM answers `FailedOperation.IndexedAttributeTooLong` above this (tencent-cloud-api.md §4.1). */
export const INDEXED_ATTRIBUTE_MAX_CHARS = 512;

/**
 * Characters as Unicode code points, the way ajv's `maxLength` counts them (its `ucs2length`), so
 * the schema, the mapping and the emulator agree: '😀' is one character, not two UTF-16 units.
 * A lone surrogate counts as one, as in ajv.
 */
export const codePointLength = (value: string): number => {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
};

/**
 * Forms the adapter can write PhoneNumber in (config `mapping.phoneFormat`); lookups by phone use
 * the same form. See lib/ciam/phone.ts for what each one looks like and why.
 */
export const PHONE_FORMATS = ['e164', 'international'] as const;
export type PhoneFormat = (typeof PHONE_FORMATS)[number];
export const DEFAULT_PHONE_FORMAT: PhoneFormat = 'e164';

/** The JSON Schema keywords the field fragments use. */
interface FieldSchema {
  readonly type: 'string' | 'integer' | 'array' | 'object';
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly items?: FieldSchema;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  readonly properties?: Readonly<Record<string, FieldSchema>>;
}

interface FieldSpec {
  /**
   * Who supplies the value: `resolver` (the CIAM user the change applies to), `connection` (its
   * user store) or `mapping` (defaults or a JSONata override; config may name only these).
   * Fields not from the mapping are required.
   */
  readonly from: 'resolver' | 'connection' | 'mapping';
  readonly schema: FieldSchema;
}

const id = { type: 'string', minLength: 1 } as const;
const text = { type: 'string' } as const;
const strings = { type: 'array', items: text } as const;
// Refused, never truncated: a cut external id would silently match the wrong user later.
const indexed = { type: 'string', maxLength: INDEXED_ATTRIBUTE_MAX_CHARS } as const;
const memberMap = {
  type: 'object',
  required: ['Name', 'Value'],
  additionalProperties: false,
  properties: { Name: text, Value: text, Type: text },
} as const;

/** In the request's documented order. */
export const UPDATE_USER_FIELDS = {
  UserId: { from: 'resolver', schema: id },
  UserStoreId: { from: 'connection', schema: id },
  UserName: { from: 'mapping', schema: text },
  PhoneNumber: { from: 'mapping', schema: text },
  Email: { from: 'mapping', schema: text },
  Nickname: { from: 'mapping', schema: text },
  Address: { from: 'mapping', schema: text },
  UserGroup: { from: 'mapping', schema: strings },
  // Epoch milliseconds, as the CIAM API's user structures give dates.
  Birthdate: { from: 'mapping', schema: { type: 'integer' } },
  CustomizationAttributes: { from: 'mapping', schema: { type: 'array', items: memberMap } },
  IndexedAttribute1: { from: 'mapping', schema: indexed },
  IndexedAttribute2: { from: 'mapping', schema: indexed },
  IndexedAttribute3: { from: 'mapping', schema: indexed },
  IndexedAttribute4: { from: 'mapping', schema: indexed },
  IndexedAttribute5: { from: 'mapping', schema: indexed },
  UserOrg: { from: 'mapping', schema: strings },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof UPDATE_USER_FIELDS;

type Simplify<T> = { -readonly [K in keyof T]: T[K] } & {};

/** The TypeScript type a field fragment describes. */
type FromSchema<S> = S extends { readonly type: 'string' }
  ? string
  : S extends { readonly type: 'integer' }
    ? number
    : S extends { readonly type: 'array'; readonly items: infer I }
      ? FromSchema<I>[]
      : S extends {
            readonly type: 'object';
            readonly properties: infer P;
            readonly required: readonly (infer R)[];
          }
        ? Simplify<
            { [K in keyof P & R]: FromSchema<P[K]> } & {
              [K in Exclude<keyof P, R>]?: FromSchema<P[K]>;
            }
          >
        : never;

type FieldsFrom<W extends FieldSpec['from']> = {
  [K in keyof Fields]: Fields[K]['from'] extends W ? K : never;
}[keyof Fields];

type RequestOf<K extends keyof Fields> = Simplify<
  { [F in Exclude<K, FieldsFrom<'mapping'>>]: FromSchema<Fields[F]['schema']> } & {
    [F in Extract<K, FieldsFrom<'mapping'>>]?: FromSchema<Fields[F]['schema']>;
  }
>;

/** A CustomizationAttributes item. */
export type MemberMap = FromSchema<typeof memberMap>;

/** The UpdateUser fields a mapping sets, and config's `mapping.fields` / `mapping.omit` may name. */
export type UpdateUserField = FieldsFrom<'mapping'>;

export type UpdateUserRequest = RequestOf<keyof Fields>;

/** What mapping produces: everything but the CIAM UserId, which user resolution supplies. */
export type UpdateUserDraft = RequestOf<Exclude<keyof Fields, FieldsFrom<'resolver'>>>;

const fieldNames = (keep: (spec: FieldSpec) => boolean): string[] =>
  Object.entries(UPDATE_USER_FIELDS as Record<string, FieldSpec>)
    .filter(([, spec]) => keep(spec))
    .map(([name]) => name);

/** In the request's order, which is also the order mapping fills them in. */
export const MAPPABLE_FIELDS: readonly UpdateUserField[] = Object.freeze(
  fieldNames((spec) => spec.from === 'mapping') as UpdateUserField[],
);

const MAPPABLE = new Set<string>(MAPPABLE_FIELDS);

export const isMappableField = (name: string): name is UpdateUserField => MAPPABLE.has(name);

/** The longest value CIAM takes for a field, in code points; undefined when it sets no limit. */
export const maxCharsOf = (field: keyof Fields): number | undefined => {
  const schema: FieldSchema = UPDATE_USER_FIELDS[field].schema;
  return schema.maxLength;
};

/** JSON Schema (draft-07) fragments: `properties` and `required` for the chosen fields. */
export const updateUserProperties = (
  include: (from: FieldSpec['from']) => boolean,
): { properties: Record<string, FieldSchema>; required: string[] } => {
  const properties: Record<string, FieldSchema> = {};
  for (const [name, spec] of Object.entries(UPDATE_USER_FIELDS as Record<string, FieldSpec>)) {
    if (include(spec.from)) properties[name] = spec.schema;
  }
  return {
    properties,
    required: fieldNames((spec) => include(spec.from) && spec.from !== 'mapping'),
  };
};
