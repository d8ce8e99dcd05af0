import type { ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { SENDER_ID_SCHEMA } from '../shared/sender-id.ts';
import { EVENT_TYPES_OPTION } from '../shared/validation.ts';

/** Okta Event Hooks envelope and the Users API user (identity-sources.md §2). */

export type OktaVerification = 'if-present' | 'required' | 'none';

export interface OktaOptions {
  orgUrl: string;
  headerName?: string;
  verification?: OktaVerification;
  eventTypes?: string[];
  usersApiTimeoutMs?: number;
}

export interface OktaTarget {
  id?: string | null;
  type?: string | null;
  displayName?: string | null;
  [key: string]: unknown;
}

/** A System Log LogEvent; only the fields read here are typed. */
export interface OktaLogEvent {
  uuid?: string;
  published?: string;
  eventType: string;
  target?: OktaTarget[] | null;
  [key: string]: unknown;
}

export interface OktaEventHook {
  eventType: 'com.okta.event_hook';
  eventId: string;
  eventTime?: string;
  data: { events: OktaLogEvent[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** `GET /api/v1/users/{id}`; profile values are read leniently (custom attributes vary). */
export interface OktaUser {
  id: string;
  status?: string;
  profile: Record<string, unknown>;
  [key: string]: unknown;
}

const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const oktaOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['orgUrl'],
  properties: {
    // Scheme and host are checked again at prepare time (http only for loopback).
    orgUrl: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
    headerName: { type: 'string', minLength: 1, maxLength: 128, pattern: HEADER_NAME_PATTERN },
    verification: { type: 'string', enum: ['if-present', 'required', 'none'] },
    eventTypes: EVENT_TYPES_OPTION,
    // Okta gives up after 3 s, so the default leaves room for the rest of the request.
    usersApiTimeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 },
  },
} as const;

/** A target whose id the adapter uses (a User for the Users API call, a UserGroup to map). */
const targetWithIdOfType = (type: string) => ({
  if: { type: 'object', required: ['type'], properties: { type: { const: type } } },
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
  then: {
    type: 'object',
    required: ['id'],
    properties: { id: SENDER_ID_SCHEMA },
  },
});

const targetSchema = {
  type: 'object',
  properties: {
    id: { type: ['string', 'null'] },
    type: { type: ['string', 'null'] },
    displayName: { type: ['string', 'null'], maxLength: 1024 },
  },
  allOf: [targetWithIdOfType('User'), targetWithIdOfType('UserGroup')],
} as const;

const logEventSchema = {
  type: 'object',
  required: ['eventType'],
  properties: {
    uuid: SENDER_ID_SCHEMA,
    published: { type: 'string' },
    eventType: { type: 'string', minLength: 1, maxLength: 256 },
    target: { type: ['array', 'null'], items: targetSchema },
  },
} as const;

export const oktaEventHookSchema = {
  type: 'object',
  required: ['eventType', 'eventId', 'data'],
  properties: {
    eventType: { const: 'com.okta.event_hook' },
    eventId: SENDER_ID_SCHEMA,
    eventTime: { type: 'string' },
    data: {
      type: 'object',
      required: ['events'],
      properties: { events: { type: 'array', items: logEventSchema } },
    },
  },
} as const;

export const oktaUserSchema = {
  type: 'object',
  required: ['id', 'profile'],
  properties: {
    id: { type: 'string', minLength: 1 },
    status: { type: 'string' },
    profile: { type: 'object' },
  },
} as const;

// Generated at build time (npm run build:validators) with OWN_PROPERTIES_AJV_OPTIONS.
export const validateOktaOptions = generated.oktaOptions as ValidateFunction<OktaOptions>;
export const validateOktaEventHook = generated.oktaEventHook as ValidateFunction<OktaEventHook>;
export const validateOktaUser = generated.oktaUser as ValidateFunction<OktaUser>;
