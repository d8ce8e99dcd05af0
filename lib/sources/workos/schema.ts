import type { ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { SENDER_ID_SCHEMA } from '../shared/sender-id.ts';
import { EVENT_TYPES_OPTION, TOLERANCE_SECONDS_OPTION } from '../shared/validation.ts';

export const WORKOS_DEFAULTS = {
  toleranceSeconds: 180,
  eventTypes: ['dsync.user.created', 'dsync.user.updated'],
} as const;

export interface WorkosOptions {
  toleranceSeconds?: number;
  eventTypes?: string[];
}

export const workosOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    toleranceSeconds: TOLERANCE_SECONDS_OPTION,
    eventTypes: EVENT_TYPES_OPTION,
  },
} as const;

export interface WorkosEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
  created_at?: string;
}

/** What `parse` returns: the checked event and, for handled types only, its directory user. */
export interface WorkosDelivery {
  event: WorkosEvent;
  user?: WorkosDirectoryUser;
}

/** The Directory User fields the mapping reads; WorkOS sends more (raw_attributes, state…). */
export interface WorkosDirectoryUser {
  id: string;
  email?: string | null;
  emails?: { primary?: boolean | null; value?: string | null }[];
  username?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  custom_attributes?: Record<string, unknown> | null;
  created_at?: string | null;
  updated_at?: string | null;
}

const nullableString = { type: ['string', 'null'] } as const;

export const eventSchema = {
  type: 'object',
  required: ['id', 'event', 'data'],
  properties: {
    id: SENDER_ID_SCHEMA,
    event: { type: 'string', minLength: 1, maxLength: 200 },
    data: { type: 'object' },
    created_at: { type: 'string' },
  },
} as const;

export const userSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    email: nullableString,
    emails: {
      type: 'array',
      items: {
        type: 'object',
        properties: { primary: { type: ['boolean', 'null'] }, value: nullableString },
      },
    },
    username: nullableString,
    first_name: nullableString,
    last_name: nullableString,
    custom_attributes: { type: ['object', 'null'] },
    created_at: nullableString,
    updated_at: nullableString,
  },
} as const;

// Generated at build time (npm run build:validators) with AJV_OPTIONS.
export const validateOptions = generated.workosOptions as ValidateFunction<WorkosOptions>;
export const validateWorkosEvent = generated.workosEvent as ValidateFunction<WorkosEvent>;
export const validateWorkosUser = generated.workosUser as ValidateFunction<WorkosDirectoryUser>;
