import type { CanonicalAttributes, UserChange } from '../../change.ts';
import { definedOnly, isRecord, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { SourceOutcome } from '../types.ts';
import { AUTH0_TYPE_PREFIX, type Auth0Event, type Auth0User } from './schema.ts';

export interface Auth0MappingSettings {
  connectionId: string;
  /** Normalised (`user.updated`, never `com.auth0.user.updated`). */
  eventTypes: ReadonlySet<string>;
}

export const normaliseAuth0Type = (type: string): string =>
  type.startsWith(AUTH0_TYPE_PREFIX) ? type.slice(AUTH0_TYPE_PREFIX.length) : type;

/** Reads own properties only, so keys inherited from Object.prototype never leak in. */
const own = (record: unknown, key: string): unknown =>
  isRecord(record) && Object.hasOwn(record, key) ? record[key] : undefined;

const birthdateOf = (metadata: unknown): string | number | undefined => {
  const value = own(metadata, 'birthdate');
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return nonEmpty(value);
};

const attributesOf = (user: Auth0User): CanonicalAttributes => {
  const metadata = own(user, 'user_metadata');
  const name = nonEmpty(own(user, 'name'));
  return definedOnly({
    userName: nonEmpty(own(user, 'username')),
    email: nonEmpty(own(user, 'email')),
    phone: nonEmpty(own(user, 'phone_number')),
    nickname: nonEmpty(own(user, 'nickname')) ?? name,
    givenName: nonEmpty(own(user, 'given_name')),
    familyName: nonEmpty(own(user, 'family_name')),
    displayName: name,
    // `address` and `birthdate` in user_metadata are a convention, not an Auth0 field.
    address: nonEmpty(own(metadata, 'address')),
    birthdate: birthdateOf(metadata),
  });
};

export interface Auth0UserChangeInput {
  connectionId: string;
  eventId: string;
  eventType: string;
  user: Auth0User;
  /** ISO time used when the user carries no `updated_at`. */
  fallbackTime: string;
}

/**
 * An Auth0 user object (an event's `data.object`, or a Management API user) → the canonical
 * change. Reconciliation calls it too, so a listed user maps exactly as its webhooks would.
 */
export const auth0UserToChange = (input: Auth0UserChangeInput): UserChange => {
  const { user } = input;
  const attributes = attributesOf(user);
  const subject = definedOnly({
    externalId: user.user_id,
    email: attributes.email,
    phone: attributes.phone,
    userName: attributes.userName,
  });
  return {
    connectionId: input.connectionId,
    eventId: input.eventId,
    eventType: input.eventType,
    // updated_at is what Auth0 says to order by.
    occurredAt: toIsoTime(own(user, 'updated_at')) ?? input.fallbackTime,
    subject,
    attributes,
    raw: user,
  };
};

export const auth0ToChanges = (
  settings: Auth0MappingSettings,
  event: Auth0Event,
  now: () => number,
): SourceOutcome => {
  const eventType = normaliseAuth0Type(event.type);
  const base = { eventId: event.id, eventType };
  if (event.a0purpose === 'test') {
    return { changes: [], ignored: [{ ...base, reason: 'test_event' }] };
  }
  if (!settings.eventTypes.has(eventType)) {
    return { changes: [], ignored: [{ ...base, reason: 'event_type_not_handled' }] };
  }
  const user = event.data?.object;
  if (user === undefined) {
    // Unreachable after parse(): the schema requires the user for mapped types.
    return { changes: [], ignored: [{ ...base, reason: 'no_user_in_event' }] };
  }
  const change = auth0UserToChange({
    connectionId: settings.connectionId,
    ...base,
    user,
    // `time` is when the event was emitted: the fallback when the user has no updated_at.
    fallbackTime: toIsoTime(event.time) ?? new Date(now()).toISOString(),
  });
  return { changes: [change], ignored: [] };
};
