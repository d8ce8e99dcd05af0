import type { CanonicalAttributes, UserChange, UserSubject } from '../../change.ts';
import { copySafeRecord, definedOnly, joinName, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { WorkosDirectoryUser, WorkosEvent } from './schema.ts';

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

/** `dsync.user.created` / `dsync.user.updated` (data = Directory User) → the canonical change. */
export const workosUserToChange = (input: WorkosChangeInput): UserChange => {
  const { user, event } = input;
  const email = emailOf(user);
  const userName = nonEmpty(user.username);
  const subject: UserSubject = definedOnly({ externalId: user.id, email, userName });
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
