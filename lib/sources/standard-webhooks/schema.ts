import type { ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { EVENT_TYPES_OPTION, TOLERANCE_SECONDS_OPTION } from '../shared/validation.ts';
import { MAX_EPOCH_MS } from '../shared/values.ts';

export const STANDARD_WEBHOOKS_DEFAULTS = {
  toleranceSeconds: 300,
  eventTypes: [
    'user.created',
    'user.updated',
    'organizationMembership.created',
    'organizationMembership.deleted',
  ],
} as const;

/** Clerk organization membership events (the organization as the group) and which way they go. */
export const CLERK_MEMBERSHIP_EVENTS: Readonly<Record<string, boolean>> = {
  'organizationMembership.created': true,
  'organizationMembership.deleted': false,
};

export interface StandardWebhooksOptions {
  toleranceSeconds?: number;
  eventTypes?: string[];
}

export const standardWebhooksOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    toleranceSeconds: TOLERANCE_SECONDS_OPTION,
    eventTypes: EVENT_TYPES_OPTION,
  },
} as const;

/** The Clerk / Standard Webhooks envelope; `data` is checked separately for handled types. */
export interface ClerkEvent {
  type: string;
  data: Record<string, unknown>;
  timestamp?: number;
}

/** What `parse` returns: the checked envelope, the user (handled types only) and the headers used. */
export interface StandardWebhooksDelivery {
  /** `svix-id` / `webhook-id`, at most MAX_SENDER_ID_LENGTH long. */
  eventId: string;
  event: ClerkEvent;
  /** Present exactly when the event type is one the connection maps and names a full user. */
  user?: ClerkUser;
  /** Present for a handled organization membership event, with which way it goes. */
  membership?: { data: ClerkOrganizationMembership; member: boolean };
  /** The signed `*-timestamp` header, in ms; the fallback for occurredAt. */
  sentAtMs?: number;
}

/** The subset of Clerk's UserJSON the mapping reads. Clerk sends many more fields. */
export interface ClerkUser {
  id: string;
  username?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  primary_email_address_id?: string | null;
  email_addresses?: { id: string; email_address: string }[];
  primary_phone_number_id?: string | null;
  phone_numbers?: { id: string; phone_number: string }[];
  public_metadata?: Record<string, unknown> | null;
  birthday?: string | null;
  created_at?: number | null;
  updated_at?: number | null;
}

/** The subset of Clerk's OrganizationMembership the mapping reads. */
export interface ClerkOrganizationMembership {
  organization: { id: string; name?: string | null };
  public_user_data: { user_id: string; identifier?: string | null; username?: string | null };
  updated_at?: number | null;
}

const nullableString = { type: ['string', 'null'] } as const;
const epochMs = { type: ['integer', 'null'], minimum: 0, maximum: MAX_EPOCH_MS } as const;

export const eventSchema = {
  type: 'object',
  required: ['type', 'data'],
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 200 },
    data: { type: 'object' },
    timestamp: { type: 'integer', minimum: 0, maximum: MAX_EPOCH_MS },
  },
} as const;

export const userSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    username: nullableString,
    first_name: nullableString,
    last_name: nullableString,
    primary_email_address_id: nullableString,
    email_addresses: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'email_address'],
        properties: { id: { type: 'string' }, email_address: { type: 'string' } },
      },
    },
    primary_phone_number_id: nullableString,
    phone_numbers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'phone_number'],
        properties: { id: { type: 'string' }, phone_number: { type: 'string' } },
      },
    },
    public_metadata: { type: ['object', 'null'] },
    birthday: nullableString,
    created_at: epochMs,
    updated_at: epochMs,
  },
} as const;

export const organizationMembershipSchema = {
  type: 'object',
  required: ['organization', 'public_user_data'],
  properties: {
    organization: {
      type: 'object',
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1, maxLength: 512 }, name: nullableString },
    },
    public_user_data: {
      type: 'object',
      required: ['user_id'],
      properties: {
        user_id: { type: 'string', minLength: 1, maxLength: 512 },
        identifier: nullableString,
        username: nullableString,
      },
    },
    updated_at: epochMs,
  },
} as const;

// Generated at build time (npm run build:validators) with AJV_OPTIONS.
export const validateOptions =
  generated.standardWebhooksOptions as ValidateFunction<StandardWebhooksOptions>;
export const validateClerkEvent = generated.clerkEvent as ValidateFunction<ClerkEvent>;
export const validateClerkUser = generated.clerkUser as ValidateFunction<ClerkUser>;
export const validateClerkOrganizationMembership =
  generated.clerkOrganizationMembership as ValidateFunction<ClerkOrganizationMembership>;
