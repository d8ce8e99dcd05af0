import type { ErrorObject, ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { SENDER_ID_SCHEMA } from '../shared/sender-id.ts';
import { EVENT_TYPES_OPTION, type PayloadValidator } from '../shared/validation.ts';
import { isRecord } from '../shared/values.ts';

/**
 * Auth0 Event Streams (webhook destination) schemas. Deliveries are CloudEvents 1.0; the docs
 * show both `specversion`/`type: "user.updated"` and `spec_version`/`type: "com.auth0.user.updated"`,
 * so both spellings are accepted (identity-sources.md §4.1).
 */

export type Auth0AuthMode = 'bearer' | 'basic' | 'header';

export interface Auth0Options {
  auth?: Auth0AuthMode;
  /** Header carrying the credential; Auth0 uses `Authorization` for bearer and basic. */
  headerName?: string;
  eventTypes?: string[];
}

/** The `data.object` user. Only the fields the mapping reads are typed; the rest passes through. */
export interface Auth0User {
  user_id: string;
  email?: string | null;
  username?: string | null;
  phone_number?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  name?: string | null;
  nickname?: string | null;
  updated_at?: string | null;
  user_metadata?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface Auth0Event {
  id: string;
  type: string;
  specversion?: string;
  spec_version?: string;
  time?: string;
  a0purpose?: string;
  data?: { object?: Auth0User; [key: string]: unknown };
  [key: string]: unknown;
}

/** The docs' "Event object" sample prefixes types (`com.auth0.user.updated`); deliveries do not. */
export const AUTH0_TYPE_PREFIX = 'com.auth0.';

/** RFC 9110 token: what a header name may contain. */
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const auth0OptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    auth: { type: 'string', enum: ['bearer', 'basic', 'header'] },
    headerName: { type: 'string', minLength: 1, maxLength: 128, pattern: HEADER_NAME_PATTERN },
    eventTypes: EVENT_TYPES_OPTION,
  },
} as const;

const optionalString = { type: ['string', 'null'] } as const;

/** The fields the mapping relies on; everything else in the user object is left alone. */
const userSchema = {
  type: 'object',
  required: ['user_id'],
  properties: {
    user_id: { type: 'string', minLength: 1, maxLength: 512 },
    email: optionalString,
    username: optionalString,
    phone_number: optionalString,
    given_name: optionalString,
    family_name: optionalString,
    name: optionalString,
    nickname: optionalString,
    updated_at: optionalString,
    // Free-form by design: its members are read leniently (wrong types are skipped, not rejected).
    user_metadata: { type: ['object', 'null'] },
  },
} as const;

/**
 * The envelope every delivery must have, whatever its type. The user object is required only for
 * event types this connection maps and for non-test events (auth0MappedEventSchema), so an
 * unsubscribed or test event is acked (ignored) instead of rejected.
 */
export const auth0EnvelopeSchema = {
  type: 'object',
  required: ['id', 'type'],
  anyOf: [
    { required: ['specversion'], properties: { specversion: { type: 'string' } } },
    { required: ['spec_version'], properties: { spec_version: { type: 'string' } } },
  ],
  properties: {
    id: SENDER_ID_SCHEMA,
    type: { type: 'string', minLength: 1, maxLength: 256 },
    specversion: { type: 'string' },
    spec_version: { type: 'string' },
    time: { type: 'string' },
    a0purpose: { type: 'string' },
    data: { type: 'object' },
  },
} as const;

/** What a mapped, non-test event must carry on top of the envelope: the user. */
export const auth0MappedEventSchema = {
  type: 'object',
  required: ['data'],
  properties: {
    data: { type: 'object', required: ['object'], properties: { object: userSchema } },
  },
} as const;

// Generated at build time (npm run build:validators) with OWN_PROPERTIES_AJV_OPTIONS.
export const validateAuth0Options = generated.auth0Options as ValidateFunction<Auth0Options>;

export const AUTH0_DEFAULT_EVENT_TYPES: readonly string[] = ['user.created', 'user.updated'];

/** ajv's own error for a failed `then`, so details read as they did with one if/then schema. */
const THEN_FAILED: ErrorObject = {
  instancePath: '',
  schemaPath: '#/if',
  keyword: 'if',
  params: { failingKeyword: 'then' },
  message: 'must match "then" schema',
};

/**
 * The event validator of a connection that maps `mappedTypes`. It behaves as the JSON Schema
 * `{ ...envelope, if: { type, a0purpose not "test" }, then: mapped }` would, but from two
 * validators generated at build time: the `if` depends on the connection's event types, and
 * compiling that schema at cold start put ajv's compiler in the bundle.
 * test/sources/auth0.test.ts checks it against that schema compiled by ajv.
 */
export const auth0EventValidator = (
  mappedTypes: readonly string[],
): PayloadValidator<Auth0Event> => {
  const envelope = generated.auth0Envelope as ValidateFunction<Auth0Event>;
  const mapped = generated.auth0MappedEvent as ValidateFunction;
  const types = new Set(mappedTypes.flatMap((type) => [type, `${AUTH0_TYPE_PREFIX}${type}`]));
  // The `if`: own properties only (the validators use ownProperties), a mapped type in either
  // spelling, and not Auth0's "test" delivery.
  const requiresUser = (event: unknown): boolean =>
    isRecord(event) &&
    Object.hasOwn(event, 'type') &&
    typeof event.type === 'string' &&
    types.has(event.type) &&
    !(Object.hasOwn(event, 'a0purpose') && event.a0purpose === 'test');

  const validate = (event: unknown): event is Auth0Event => {
    const errors = envelope(event) ? [] : [...(envelope.errors ?? [])];
    if (requiresUser(event) && !mapped(event)) errors.push(...(mapped.errors ?? []), THEN_FAILED);
    validate.errors = errors.length === 0 ? null : errors;
    return errors.length === 0;
  };
  validate.errors = null as ErrorObject[] | null;
  return validate;
};
