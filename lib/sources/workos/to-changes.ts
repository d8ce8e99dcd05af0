import type { CanonicalAttributes, UserChange, UserSubject } from '../../change.ts';
import { copySafeRecord, definedOnly, joinName, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { WorkosDirectoryGroup, WorkosDirectoryUser, WorkosEvent } from './schema.ts';

export interface WorkosChangeInput {
  connectionId: string;
  event: WorkosEvent;
  user: WorkosDirectoryUser;
  deliveredAtMs: number;
}

/** `data.email`, else the primary `emails[]` entry, else the first one with a value. */
const emailOf = (user: WorkosDirectoryUser): string | undefined => {
  const direct = nonEmpty(user.email);
  if (direct !== undefined) return direct;
  const emails = user.emails ?? [];
  const primary = emails.find((entry) => entry.primary === true && nonEmpty(entry.value));
  return nonEmpty((primary ?? emails.find((entry) => nonEmpty(entry.value)))?.value);
};

const subjectOf = (user: WorkosDirectoryUser): UserSubject =>
  definedOnly({ externalId: user.id, email: emailOf(user), userName: nonEmpty(user.username) });

export interface WorkosMembershipInput {
  connectionId: string;
  event: WorkosEvent;
  user: WorkosDirectoryUser;
  group: WorkosDirectoryGroup;
  member: boolean;
  deliveredAtMs: number;
}

/**
 * `dsync.group.user_added` / `user_removed` → a membership change. Its time is the event's: the
 * user's `updated_at` says when the profile changed, not when the membership did.
 */
export const workosMembershipToChange = (input: WorkosMembershipInput): UserChange => {
  const { event, user, group } = input;
  return {
    connectionId: input.connectionId,
    eventId: event.id,
    eventType: event.event,
    occurredAt: toIsoTime(event.created_at) ?? new Date(input.deliveredAtMs).toISOString(),
    subject: subjectOf(user),
    attributes: {},
    raw: user,
    memberships: [
      { group: definedOnly({ id: group.id, name: nonEmpty(group.name) }), member: input.member },
    ],
  };
};

/** `dsync.user.created` / `dsync.user.updated` (data = Directory User) → the canonical change. */
export const workosUserToChange = (input: WorkosChangeInput): UserChange => {
  const { user, event } = input;
  const email = emailOf(user);
  const userName = nonEmpty(user.username);
  const subject: UserSubject = subjectOf(user);
  const attributes: CanonicalAttributes = definedOnly({
    userName,
    email,
    nickname: joinName(user.first_name, user.last_name),
    givenName: nonEmpty(user.first_name),
    familyName: nonEmpty(user.last_name),
    custom: copySafeRecord(user.custom_attributes),
  });
  const occurredAt =
    toIsoTime(user.updated_at) ??
    toIsoTime(user.created_at) ??
    toIsoTime(event.created_at) ??
    new Date(input.deliveredAtMs).toISOString();
  return {
    connectionId: input.connectionId,
    eventId: event.id,
    eventType: event.event,
    occurredAt,
    subject,
    attributes,
    raw: user,
  };
};
