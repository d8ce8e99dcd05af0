import type { CanonicalAttributes, UserChange, UserSubject } from '../../change.ts';
import { copySafeRecord, definedOnly, joinName, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { ClerkEvent, ClerkUser } from './schema.ts';

export interface ClerkChangeInput {
  connectionId: string;
  eventId: string;
  event: ClerkEvent;
  user: ClerkUser;
  /** Fallback when neither `data.updated_at` nor the envelope has a time: the delivery time. */
  deliveredAtMs: number;
}

const primaryOf = <T extends { id: string }>(
  entries: readonly T[] | undefined,
  primaryId: string | null | undefined,
): T | undefined =>
  primaryId === null || primaryId === undefined
    ? undefined
    : entries?.find((entry) => entry.id === primaryId);

/** Clerk `user.created` / `user.updated` (data = UserJSON) → the canonical change. */
export const clerkUserToChange = (input: ClerkChangeInput): UserChange => {
  const { user } = input;
  const email = nonEmpty(
    primaryOf(user.email_addresses, user.primary_email_address_id)?.email_address,
  );
  const phone = nonEmpty(primaryOf(user.phone_numbers, user.primary_phone_number_id)?.phone_number);
  const userName = nonEmpty(user.username);
  const subject: UserSubject = definedOnly({ externalId: user.id, email, phone, userName });
  const attributes: CanonicalAttributes = definedOnly({
    userName,
    email,
    phone,
    nickname: joinName(user.first_name, user.last_name) ?? userName,
    givenName: nonEmpty(user.first_name),
    familyName: nonEmpty(user.last_name),
    // Clerk sends "" when no birthday is set.
    birthdate: nonEmpty(user.birthday),
    custom: copySafeRecord(user.public_metadata),
  });
  const occurredAt =
    toIsoTime(user.updated_at ?? undefined) ??
    toIsoTime(input.event.timestamp) ??
    new Date(input.deliveredAtMs).toISOString();
  return {
    connectionId: input.connectionId,
    eventId: input.eventId,
    eventType: input.event.type,
    occurredAt,
    subject,
    attributes,
    raw: user,
  };
};
