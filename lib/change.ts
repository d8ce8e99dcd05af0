/**
 * The canonical, source-independent change (DESIGN.md "UserChange"). Every source adapter turns
 * its payload into these; nothing after that step knows which source sent the event.
 */
export interface UserSubject {
  /** The source's own user id (Clerk `data.id`, WorkOS `data.id`, Auth0 `user_id`, Okta id…). */
  externalId?: string;
  email?: string;
  phone?: string;
  userName?: string;
  /** Set when the change itself names the CIAM user. */
  ciamUserId?: string;
}

/**
 * Attributes in a common vocabulary, filled by each source's `toChanges`. The default mapping
 * reads these; JSONata overrides can also read `raw` (the source's own user object).
 */
export interface CanonicalAttributes {
  userName?: string;
  email?: string;
  phone?: string;
  nickname?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  address?: string;
  /** ISO date (YYYY-MM-DD), ISO timestamp or epoch ms as the source gave it; normalised later. */
  birthdate?: string | number;
  groups?: string[];
  orgs?: string[];
  /** Flat custom attributes (values become strings in CIAM). */
  custom?: Record<string, unknown>;
}

export interface UserChange {
  connectionId: string;
  /** The sender's event id (dedupe key): svix-id, WorkOS event id, Okta uuid… */
  eventId: string;
  /** The source's event type, e.g. `user.updated`. */
  eventType: string;
  /** ISO-8601 time the change happened at the source (or was delivered, if unknown). */
  occurredAt: string;
  subject: UserSubject;
  attributes: CanonicalAttributes;
  /** The source's user object, exposed to JSONata mapping overrides as `raw`. */
  raw: unknown;
  /**
   * Group memberships the event adds or removes, naming the SOURCE group. A change that carries
   * them is a membership event: it sets no attribute, only these (mapped to CIAM groups by the
   * connection's `groups` setting).
   */
  memberships?: SourceMembership[];
}

/** A user joining (`member: true`) or leaving a group of the source. */
export interface SourceMembership {
  /** The source's group, by its id, its name or both. */
  group: { id?: string; name?: string };
  member: boolean;
}

/**
 * Why an event was acknowledged without a change. A closed set, the same for every source, so
 * replies, logs and metrics can be grouped by it:
 * - `event_type_not_handled`: the connection does not map this event type;
 * - `test_event`: the sender marked it as a test (Auth0 `a0purpose: "test"`);
 * - `no_user_in_event`: a mapped type that names no user (an Okta event without a User target);
 * - `user_not_found_at_source`: the source no longer has the user it names (Okta Users API 404);
 * - `stale`: every field it carries holds a newer change already (the stale-event guard);
 * - `duplicate`: that very change was applied already;
 * - `not_authoritative`: its connection may not set the fields it carries, or a connection that
 *   ranks higher for them set them (the user store's field authority);
 * - `group_not_mapped`: a membership event for a source group the connection maps to no CIAM group
 *   (`groups.unmapped: "ignore"`);
 * - `filtered`: outside the connection's scoping filter (docs/filters.md).
 */
export const IGNORED_REASONS = [
  'event_type_not_handled',
  'test_event',
  'no_user_in_event',
  'user_not_found_at_source',
  // Set by the stale-event guard when applying, not by sources.
  'stale',
  'duplicate',
  'not_authoritative',
  // Set when mapping a membership event's group, not by sources.
  'group_not_mapped',
  // Set by the connection's scoping filter, after mapping and before delivery.
  'filtered',
] as const;

export type IgnoredReason = (typeof IGNORED_REASONS)[number];
