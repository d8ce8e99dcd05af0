import type { CanonicalAttributes, UserChange, UserSubject } from '../../change.ts';
import { copySafeRecord, definedOnly, joinName, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { ClerkEvent, ClerkOrganizationMembership, ClerkUser } from './schema.ts';

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

export interface ClerkMembershipInput {
  connectionId: string;
  eventId: string;
  event: ClerkEvent;
  membership: ClerkOrganizationMembership;
  member: boolean;
  deliveredAtMs: number;
}

/** Clerk's envelope `timestamp` is documented as creation time; examples use seconds and ms. */
const envelopeTime = (timestamp: number | undefined): string | undefined =>
  timestamp === undefined ? undefined : toIsoTime(timestamp < 1e12 ? timestamp * 1000 : timestamp);

/**
 * `organizationMembership.created` / `.deleted` → a membership change in the organization, as the
 * group. The user is named by id only: `public_user_data.identifier` may be an email, a phone or a
 * username, so it is not guessed at. A deleted membership keeps its `updated_at` from before, so
 * the envelope's time is the event's.
 */
export const clerkMembershipToChange = (input: ClerkMembershipInput): UserChange => {
  const { membership, event } = input;
  const { organization } = membership;
  return {
    connectionId: input.connectionId,
    eventId: input.eventId,
    eventType: event.type,
    occurredAt:
      envelopeTime(event.timestamp) ??
      toIsoTime(membership.updated_at ?? undefined) ??
      new Date(input.deliveredAtMs).toISOString(),
    subject: { externalId: membership.public_user_data.user_id },
    attributes: {},
    raw: membership,
    memberships: [
      {
        group: definedOnly({ id: organization.id, name: nonEmpty(organization.name) }),
        member: input.member,
      },
    ],
  };
};
