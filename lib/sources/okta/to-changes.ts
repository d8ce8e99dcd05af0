import type { CanonicalAttributes, SourceMembership, UserChange } from '../../change.ts';
import { definedOnly, isRecord, joinName, nonEmpty, toIsoTime } from '../shared/values.ts';
import type { IgnoredEvent, SourceOutcome } from '../types.ts';
import type { OktaEventHook, OktaLogEvent, OktaUser } from './schema.ts';
import type { OktaUsers } from './users-api.ts';

export interface OktaMappingSettings {
  connectionId: string;
  eventTypes: ReadonlySet<string>;
}

/** A LogEvent this connection maps, with the Okta user it names. */
export interface OktaUserEvent {
  eventId: string;
  eventType: string;
  occurredAt: string;
  userId: string;
  /** Set for group membership events: the Okta group the user joined or left. */
  membership?: SourceMembership;
}

/** Okta's group membership events and which way each goes. */
const MEMBERSHIP_EVENTS: Readonly<Record<string, boolean>> = {
  'group.user_membership.add': true,
  'group.user_membership.remove': false,
};

export interface OktaTriage {
  events: OktaUserEvent[];
  ignored: IgnoredEvent[];
  /** Distinct, in first-seen order: a batch often names the same user several times. */
  userIds: string[];
}

const targetOfType = (event: OktaLogEvent, type: string) =>
  (event.target ?? []).find((target) => target.type === type);

const userTargetId = (event: OktaLogEvent): string | undefined =>
  targetOfType(event, 'User')?.id ?? undefined;

/** Sorts a delivery into events to map and events to ignore, before any Users API call. */
export const triageOktaEvents = (
  settings: OktaMappingSettings,
  hook: OktaEventHook,
  now: () => number,
): OktaTriage => {
  const events: OktaUserEvent[] = [];
  const ignored: IgnoredEvent[] = [];
  const userIds = new Set<string>();
  hook.data.events.forEach((event, index) => {
    // Older docs dedupe on uuid; without one, the delivery id plus position is still stable.
    const eventId = event.uuid ?? `${hook.eventId}:${index}`;
    const eventType = event.eventType;
    if (!settings.eventTypes.has(eventType)) {
      ignored.push({ eventId, eventType, reason: 'event_type_not_handled' });
      return;
    }
    const userId = userTargetId(event);
    if (userId === undefined) {
      ignored.push({ eventId, eventType, reason: 'no_user_in_event' });
      return;
    }
    const occurredAt =
      toIsoTime(event.published) ?? toIsoTime(hook.eventTime) ?? new Date(now()).toISOString();
    const member = MEMBERSHIP_EVENTS[eventType];
    if (member !== undefined) {
      // Selected by type, not position; preview deliveries may carry no targets at all.
      const group = targetOfType(event, 'UserGroup');
      const groupId = group?.id ?? undefined;
      if (groupId === undefined) {
        // Nothing to map the membership to; no Users API call is spent on it.
        ignored.push({ eventId, eventType, reason: 'group_not_mapped' });
        return;
      }
      const membership: SourceMembership = {
        group: definedOnly({ id: groupId, name: nonEmpty(group?.displayName) }),
        member,
      };
      events.push({ eventId, eventType, occurredAt, userId, membership });
      userIds.add(userId);
      return;
    }
    events.push({ eventId, eventType, occurredAt, userId });
    userIds.add(userId);
  });
  return { events, ignored, userIds: [...userIds] };
};

const profileText = (profile: Record<string, unknown>, key: string): string | undefined =>
  Object.hasOwn(profile, key) ? nonEmpty(profile[key]) : undefined;

const attributesOf = (user: OktaUser): CanonicalAttributes => {
  const profile = isRecord(user.profile) ? user.profile : {};
  const read = (key: string) => profileText(profile, key);
  const givenName = read('firstName');
  const familyName = read('lastName');
  const displayName = read('displayName');
  const address = ['streetAddress', 'city', 'state', 'zipCode', 'countryCode']
    .flatMap((key) => read(key) ?? [])
    .join(', ');
  return definedOnly({
    userName: read('login'),
    email: read('email'),
    phone: read('mobilePhone') ?? read('primaryPhone'),
    nickname: read('nickName') ?? displayName ?? joinName(givenName, familyName),
    givenName,
    familyName,
    displayName,
    address: nonEmpty(address),
  });
};

export interface OktaUserChangeInput {
  connectionId: string;
  eventId: string;
  eventType: string;
  occurredAt: string;
  /** A user as the Okta Users API returns it. */
  user: OktaUser;
  /** For a group membership event: the membership, and no attribute. */
  membership?: SourceMembership;
}

/**
 * An Okta Users API user → the canonical change. The event hook path and reconciliation (which
 * lists the same users) both map through it.
 */
export const oktaUserToChange = (input: OktaUserChangeInput): UserChange => {
  const { user } = input;
  const attributes = attributesOf(user);
  return {
    connectionId: input.connectionId,
    eventId: input.eventId,
    eventType: input.eventType,
    occurredAt: input.occurredAt,
    subject: definedOnly({
      externalId: user.id,
      email: attributes.email,
      phone: attributes.phone,
      userName: attributes.userName,
    }),
    // A membership event reads the profile for the subject only: it sets no attribute.
    ...(input.membership === undefined
      ? { attributes }
      : { attributes: {}, memberships: [input.membership] }),
    raw: user,
  };
};

export const oktaToChanges = (
  settings: OktaMappingSettings,
  triage: OktaTriage,
  users: OktaUsers,
): SourceOutcome => {
  const changes: UserChange[] = [];
  const ignored = [...triage.ignored];
  for (const event of triage.events) {
    const user = users.get(event.userId);
    if (user === undefined || user === null) {
      ignored.push({
        eventId: event.eventId,
        eventType: event.eventType,
        reason: 'user_not_found_at_source',
      });
      continue;
    }
    changes.push(
      oktaUserToChange({
        connectionId: settings.connectionId,
        eventId: event.eventId,
        eventType: event.eventType,
        occurredAt: event.occurredAt,
        user,
        ...(event.membership === undefined ? {} : { membership: event.membership }),
      }),
    );
  }
  return { changes, ignored };
};
