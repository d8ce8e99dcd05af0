import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { UserChange } from '../change.ts';
import type { FieldVerdict } from '../ciam/field-clocks.ts';
import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';

/** One field a change sets: CIAM now → the source, both masked as the logs mask them. */
export interface FieldDiff {
  /** The UpdateUser field, or `custom:<name>`. */
  field: string;
  from: string;
  to: string;
}

/** A field that differs but whose clock holds a change at least as new: left as it is. */
export interface HeldField {
  field: string;
  verdict: Exclude<FieldVerdict, 'newer'>;
}

/** A group membership a change sets, by CIAM group (its DisplayName when the mapping knows it). */
export interface PlannedMembership {
  group: { id: string; name?: string };
  member: boolean;
}

/**
 * A source user whose CIAM user differs in fields, or in group memberships, the snapshot may
 * still set.
 */
export interface ChangeEntry {
  kind: 'change';
  externalId: string;
  userId: string;
  fields: FieldDiff[];
  /** Groups to join (`member: true`) or leave; absent when the memberships already agree. */
  memberships?: PlannedMembership[];
  /** Fields, and memberships (`group:<name or id>`), left as they are for a newer change. */
  held?: HeldField[];
  /**
   * The snapshot change, unmasked: what apply maps again and queues. With memberships to change,
   * its `memberships` names them by SOURCE group, mapped again as membership events are.
   */
  change: UserChange;
}

/** A source user with no CIAM user. */
export interface UnmatchedEntry {
  kind: 'unmatched';
  externalId: string;
  change: UserChange;
}

/**
 * A CIAM user linked to this connection that the source no longer lists, or (`reason:
 * 'deprovisioned'`) one whose source user the source still lists but has switched off (Okta
 * DEPROVISIONED, a WorkOS `inactive` directory user): both are users gone from the source, frozen
 * only under `orphans: 'freeze'`, and neither gets attribute updates.
 */
export interface OrphanedEntry {
  kind: 'orphaned';
  userId: string;
  /** The CIAM user's status (`FREEZE` once frozen). */
  status?: string;
  reason?: 'deprovisioned';
  /** The source user, for a deprovisioned one. */
  externalId?: string;
}

/** A source user that could not be planned (its mapping failed, several CIAM users match…). */
export interface ErrorEntry {
  kind: 'error';
  externalId: string;
  code: string;
  message: string;
}

export type PlanEntry = ChangeEntry | UnmatchedEntry | OrphanedEntry | ErrorEntry;

export interface PlanCounts {
  sourceUsers: number;
  matched: number;
  unmatched: number;
  orphaned: number;
  /** Users with a change entry. */
  changes: number;
  /** Source users reported as errors. */
  errors: number;
  /**
   * Differing fields (and group memberships) left alone because their clock holds a change at
   * least as new.
   */
  held: number;
  /** CIAM calls planning took (snapshot pages; resumed runs add theirs). */
  ciamCalls: number;
  /** Source users the connection's filter leaves out: not planned, and their CIAM users no orphans. */
  filtered: number;
  /**
   * Source users the source lists as switched off: the matched ones are also `orphaned` entries
   * (reason `deprovisioned`), the others are never created.
   */
  deprovisioned: number;
  /** Copies of a source user listed again (Auth0's export repeats what paging listed): skipped. */
  duplicates: number;
}

export const PLAN_VERSION = 1;

/**
 * A reconciliation plan, as written to its file. It holds personal data (the snapshot changes and
 * their values), so it is written readable by its owner only.
 */
export interface ReconcilePlan {
  version: typeof PLAN_VERSION;
  connectionId: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601: the last checkpoint. */
  updatedAt: string;
  /** False until the source's last page was planned; an incomplete plan is never applied. */
  complete: boolean;
  /** The source cursor to continue from; undefined before the first page and once complete. */
  cursor: string | undefined;
  /** Source pages planned so far. */
  pages: number;
  /** Why listing stopped, when it did before the end. */
  error?: { code: string; message: string };
  counts: PlanCounts;
  /**
   * CIAM users matched so far (those of filtered and deprovisioned source users included): what
   * orphans are told apart by when a run is resumed.
   */
  matchedUserIds: string[];
  /**
   * Each source user planned so far: its `updatedAt` and what it added to the counts, so a copy
   * listed again is skipped, or replaces the older one when it is newer. Absent in older plans.
   */
  seen?: Record<string, SeenUser>;
  entries: PlanEntry[];
}

/** What one planned source user added to a plan (see `ReconcilePlan.seen`). */
export interface SeenUser {
  updatedAt: string;
  /** How it was planned: matched, unmatched, error, filtered or deprovisioned. */
  outcome: 'matched' | 'unmatched' | 'error' | 'filtered' | 'deprovisioned';
  /** Fields held by newer changes. */
  held?: number;
}

export const emptyCounts = (): PlanCounts => ({
  sourceUsers: 0,
  matched: 0,
  unmatched: 0,
  orphaned: 0,
  changes: 0,
  errors: 0,
  held: 0,
  ciamCalls: 0,
  filtered: 0,
  deprovisioned: 0,
  duplicates: 0,
});

export const newPlan = (connectionId: string, now: number): ReconcilePlan => {
  const at = new Date(now).toISOString();
  return {
    version: PLAN_VERSION,
    connectionId,
    createdAt: at,
    updatedAt: at,
    complete: false,
    cursor: undefined,
    pages: 0,
    counts: emptyCounts(),
    matchedUserIds: [],
    entries: [],
  };
};

const invalid = (reason: string) =>
  new AdapterError('RECONCILE_PLAN_INVALID', `Not a usable reconciliation plan: ${reason}`, {
    details: { reason },
  });

/** Parses a plan file's text; RECONCILE_PLAN_INVALID when it is not one this version wrote. */
export const parsePlan = (text: string): ReconcilePlan => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (!isRecord(value)) throw invalid('not an object');
  if (value.version !== PLAN_VERSION) throw invalid('unknown version');
  if (typeof value.connectionId !== 'string' || value.connectionId === '') {
    throw invalid('no connectionId');
  }
  if (typeof value.complete !== 'boolean') throw invalid('no complete flag');
  if (!Array.isArray(value.entries) || !Array.isArray(value.matchedUserIds)) {
    throw invalid('no entries');
  }
  if (!isRecord(value.counts)) throw invalid('no counts');
  // Counts added since a plan was written start at 0.
  value.counts = { ...emptyCounts(), ...value.counts };
  return value as unknown as ReconcilePlan;
};

export const readPlanFile = (path: string): ReconcilePlan => parsePlan(readFileSync(path, 'utf8'));

/**
 * Writes the plan readable and writable by its owner only (0600), through a temporary file and a
 * rename, so an interrupted checkpoint never leaves half a plan behind.
 */
export const writePlanFile = (path: string, plan: ReconcilePlan): void => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
  // The mode is applied only when the file is created; a reused temporary name keeps its own.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
};
