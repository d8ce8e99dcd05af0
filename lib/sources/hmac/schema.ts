import type { ValidateFunction } from 'ajv';
import { ConfigError } from '../../errors.ts';
import * as generated from '../../validators/generated.js';
import { EVENT_TYPES_OPTION, TOLERANCE_SECONDS_OPTION } from '../shared/validation.ts';
import { buildPayloadCheck, type PayloadCheck } from './payload-schema.ts';

export const HMAC_FIELD_NAMES = [
  'externalId',
  'eventId',
  'eventType',
  'occurredAt',
  'email',
  'phone',
  'userName',
  'nickname',
  'givenName',
  'familyName',
  'address',
  'birthdate',
] as const;

export type HmacFieldName = (typeof HMAC_FIELD_NAMES)[number];

export const HMAC_DEFAULTS = {
  signatureHeader: 'x-hub-signature-256',
  prefix: 'sha256=',
  encoding: 'hex',
  toleranceSeconds: 300,
  eventType: 'user.updated',
} as const;

export interface HmacOptions {
  signatureHeader?: string;
  prefix?: string;
  encoding?: 'hex' | 'base64';
  timestampHeader?: string;
  toleranceSeconds?: number;
  eventIdHeader?: string;
  eventTypeHeader?: string;
  payloadSchema: Record<string, unknown>;
  fields: { externalId: string } & Partial<Record<HmacFieldName, string>>;
  eventTypes?: string[];
}

/** What `parse` returns: the payload the configured schema accepted, and the headers it may use. */
export interface HmacDelivery {
  payload: unknown;
  /** `eventIdHeader` / `eventTypeHeader` values, at most MAX_SENDER_ID_LENGTH long. */
  eventIdHeader?: string;
  eventTypeHeader?: string;
  /** The signed timestamp header, in ms, when one is configured and well-formed. */
  sentAtMs?: number;
}

// RFC 9110 token characters; API Gateway lower-cases names, so lookups lower-case them too.
const headerName = { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", maxLength: 100 };
const expression = { type: 'string', minLength: 1, maxLength: 2000 };

export const hmacOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['payloadSchema', 'fields'],
  properties: {
    signatureHeader: headerName,
    prefix: { type: 'string', maxLength: 64 },
    encoding: { type: 'string', enum: ['hex', 'base64'] },
    timestampHeader: headerName,
    toleranceSeconds: TOLERANCE_SECONDS_OPTION,
    eventIdHeader: headerName,
    eventTypeHeader: headerName,
    payloadSchema: { type: 'object' },
    fields: {
      type: 'object',
      additionalProperties: false,
      required: ['externalId'],
      properties: Object.fromEntries(HMAC_FIELD_NAMES.map((name) => [name, expression])),
    },
    eventTypes: EVENT_TYPES_OPTION,
  },
};

// Generated at build time (npm run build:validators) with AJV_OPTIONS.
export const validateOptions = generated.hmacOptions as ValidateFunction<HmacOptions>;

/**
 * The operator's payload schema, checked once at cold start (payload-schema.ts says how it differs
 * from ajv): a typo such as `requried`, an unknown type or format, or a `$ref` that does not
 * resolve fails the connection here, naming where in the schema.
 */
export const compilePayloadSchema = (
  schema: Record<string, unknown>,
  connectionId: string,
): PayloadCheck => {
  const built = buildPayloadCheck(schema, '/options/payloadSchema');
  if ('problems' in built) {
    throw new ConfigError(`Connection "${connectionId}" has an invalid hmac payloadSchema`, {
      details: built.problems,
    });
  }
  return built.check;
};
