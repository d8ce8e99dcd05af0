import type { ValidateFunction } from 'ajv';
import * as generated from '../../validators/generated.js';
import { SENDER_ID_SCHEMA } from '../shared/sender-id.ts';
import { EVENT_TYPES_OPTION, TOLERANCE_SECONDS_OPTION } from '../shared/validation.ts';

export const WORKOS_DEFAULTS = {
  toleranceSeconds: 180,
  eventTypes: [
    'dsync.user.created',
    'dsync.user.updated',
    'dsync.group.user_added',
    'dsync.group.user_removed',
    'dsync.group.deleted',
  ],
} as const;

/** Membership events: `data` is `{ user, group }`, and the event says which way it goes. */
export const WORKOS_MEMBERSHIP_EVENTS: Readonly<Record<string, boolean>> = {
  'dsync.group.user_added': true,
  'dsync.group.user_removed': false,
};

/** A deleted directory group: `data` is the group alone, without its members. */
export const WORKOS_GROUP_DELETED = 'dsync.group.deleted';

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
  /** For membership events: the group the user joined or left, and which way. */
  membership?: { group: WorkosDirectoryGroup; member: boolean };
  /** Set for a handled event that names no user (`dsync.group.deleted`). */
  noUser?: true;
}

/** The Directory Group fields read here. */
export interface WorkosDirectoryGroup {
  id: string;
  name?: string | null;
}

/** `dsync.group.user_added` / `user_removed` data. */
export interface WorkosGroupMembership {
  user: WorkosDirectoryUser;
  group: WorkosDirectoryGroup;
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

export const groupSchema = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    name: nullableString,
  },
} as const;

export const groupMembershipSchema = {
  type: 'object',
  required: ['user', 'group'],
  properties: { user: userSchema, group: groupSchema },
} as const;

// Generated at build time (npm run build:validators) with AJV_OPTIONS.
export const validateOptions = generated.workosOptions as ValidateFunction<WorkosOptions>;
export const validateWorkosEvent = generated.workosEvent as ValidateFunction<WorkosEvent>;
export const validateWorkosUser = generated.workosUser as ValidateFunction<WorkosDirectoryUser>;
export const validateWorkosGroup = generated.workosGroup as ValidateFunction<WorkosDirectoryGroup>;
export const validateWorkosGroupMembership =
  generated.workosGroupMembership as ValidateFunction<WorkosGroupMembership>;
