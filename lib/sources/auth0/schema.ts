import type { Ajv, ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { SENDER_ID_SCHEMA } from '../shared/sender-id.ts';
import { createAjv, EVENT_TYPES_OPTION } from '../shared/validation.ts';

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
 * The user object is required only for event types this connection maps and for non-test
 * events, so an unsubscribed or test event is acked (ignored) instead of rejected.
 */
const buildEventSchema = (mappedTypes: readonly string[]) => ({
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
  if: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { enum: mappedTypes.flatMap((type) => [type, `${AUTH0_TYPE_PREFIX}${type}`]) },
      a0purpose: { not: { const: 'test' } },
    },
  },
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
  then: {
    type: 'object',
    required: ['data'],
    properties: {
      data: { type: 'object', required: ['object'], properties: { object: userSchema } },
    },
  },
});

// ownProperties: `required` must not be satisfied by something inherited from a prototype.
// Created on the first auth0 connection only: its event schema depends on the connection.
let ajv: Ajv | undefined;

// Generated at build time (npm run build:validators) with OWN_PROPERTIES_AJV_OPTIONS.
export const validateAuth0Options = generated.auth0Options as ValidateFunction<Auth0Options>;

/** Compiled once per connection at prepare time (the conditional depends on its event types). */
export const AUTH0_DEFAULT_EVENT_TYPES: readonly string[] = ['user.created', 'user.updated'];
/** Generated at build time for connections that keep the default event types. */
export const auth0DefaultEventSchema = buildEventSchema(AUTH0_DEFAULT_EVENT_TYPES);

export const compileAuth0EventValidator = (
  mappedTypes: readonly string[],
): ValidateFunction<Auth0Event> => {
  if (
    mappedTypes.length === AUTH0_DEFAULT_EVENT_TYPES.length &&
    mappedTypes.every((type, i) => type === AUTH0_DEFAULT_EVENT_TYPES[i])
  ) {
    return generated.auth0DefaultEvent as ValidateFunction<Auth0Event>;
  }
  ajv ??= createAjv({ ownProperties: true });
  return ajv.compile<Auth0Event>(buildEventSchema(mappedTypes));
};
