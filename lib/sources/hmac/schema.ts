import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { ConfigError } from '../../errors.ts';
import * as generated from '../../validators/generated.js';
import { EVENT_TYPES_OPTION, TOLERANCE_SECONDS_OPTION } from '../shared/validation.ts';

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
 * The payload schema is the operator's, so it gets its own Ajv (no `$id` clashes between
 * connections) with formats. Unknown keywords still fail, catching typos such as `requried`;
 * type-strictness is relaxed because hand-written schemas often omit `type` next to `properties`.
 */
export const compilePayloadSchema = (
  schema: Record<string, unknown>,
  connectionId: string,
): ValidateFunction => {
  const ajv = new Ajv({
    allErrors: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    logger: false,
  });
  addFormats(ajv);
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new ConfigError(`Connection "${connectionId}" has an invalid hmac payloadSchema`, {
      cause: error,
    });
  }
};
