import type { CanonicalAttributes, UserChange } from '../../change.ts';
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
}

export interface OktaTriage {
  events: OktaUserEvent[];
  ignored: IgnoredEvent[];
  /** Distinct, in first-seen order: a batch often names the same user several times. */
  userIds: string[];
}

const userTargetId = (event: OktaLogEvent): string | undefined =>
  (event.target ?? []).find((target) => target.type === 'User')?.id ?? undefined;

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
    const attributes = attributesOf(user);
    changes.push({
      connectionId: settings.connectionId,
      eventId: event.eventId,
      eventType: event.eventType,
      occurredAt: event.occurredAt,
      subject: definedOnly({
        externalId: user.id,
        email: attributes.email,
        phone: attributes.phone,
        userName: attributes.userName,
      }),
      attributes,
      raw: user,
    });
  }
  return { changes, ignored };
};
