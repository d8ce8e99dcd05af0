import type { UserChange } from '../change.ts';
import type { Connection } from '../config/types.ts';
import type { HttpFetch } from '../fetch.ts';
import type { SecretSource } from '../secrets/types.ts';

/**
 * One user as the source's user API lists it, already turned into the change its webhooks would
 * make: a snapshot of every attribute, through the same source conversion, whose `occurredAt` is
 * the source's `updated_at` (so the field clocks order it against webhook changes).
 */
export interface SourceUser {
  /** The source's user id, as `change.subject.externalId`. */
  externalId: string;
  /** ISO-8601: when the source last changed the user. */
  updatedAt: string;
  change: UserChange;
  /**
   * Set when the source still lists the user but has switched it off (Okta `DEPROVISIONED`, a
   * WorkOS directory user in state `inactive`): not an orphan, a user to treat as gone.
   */
  deprovisioned?: boolean;
  /** The source's groups the user belongs to, when the listing says (WorkOS `groups`). */
  groups?: { id: string; name?: string }[];
}

export interface SourceUserPage {
  users: SourceUser[];
  /** Opaque: pass it back for the next page; undefined after the last page. */
  next: string | undefined;
  /**
   * Every group of the source, when the lister reads them (WorkOS with a `groups` setting): what
   * reconciliation learns the groups the connection manages from before the first user is planned.
   */
  groups?: { id: string; name?: string }[];
}

/** Pages through every user of one connection's source. */
export interface SourceUserLister {
  /** Starts from the beginning when `cursor` is undefined. */
  listPage(cursor: string | undefined, options?: { signal?: AbortSignal }): Promise<SourceUserPage>;
}

/** What listing needs, injected like everywhere else. */
export interface SourceApiContext {
  fetch: HttpFetch;
  secrets: SecretSource;
  /** Epoch milliseconds. */
  now: () => number;
  /** Waits (rate limits, Retry-After); tests pass one that advances a fake clock. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type CreateSourceUserLister = (
  connection: Connection,
  context: SourceApiContext,
) => SourceUserLister;
