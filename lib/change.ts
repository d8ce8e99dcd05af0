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
}
