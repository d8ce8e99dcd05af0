import type { UserChange } from '../change.ts';
import type { ApplyTarget } from '../ciam/apply.ts';
import { CLOCKED_FIELDS, type Clock, customField, verdictFor } from '../ciam/field-clocks.ts';
import { resolutionValue } from '../ciam/resolve.ts';
import { clockOf, readClocks } from '../ciam/stale-guard.ts';
import type { CiamUser, UpdateUserDraft } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { isAdapterError } from '../errors.ts';
import type { CompiledFilter } from '../filter/index.ts';
import { maskEmail, maskPhone } from '../log/mask.ts';
import type { Mapper } from '../mapping/index.ts';
import type { SourceUser } from '../source-apis/types.ts';
import type { MembershipPlanner } from './memberships.ts';
import type { FieldDiff, HeldField, PlanEntry, SeenUser } from './plan.ts';

/** How a value shows in a plan's output: personal data masked as the logs mask it. */
export const maskValue = (field: string, value: unknown): string => {
  if (value === undefined || value === null || value === '') return '(none)';
  if (Array.isArray(value)) return `[${value.length}]`;
  const text = String(value);
  if (field === 'Email') return maskEmail(text);
  if (field === 'PhoneNumber') return maskPhone(text);
  // Indexed attributes hold source ids, which the logs show too.
  if (field.startsWith('IndexedAttribute')) return text;
  if (field === 'Birthdate') return '***';
  return text.length <= 2 ? '***' : `${text.slice(0, 1)}***`;
};

const CLOCKED = new Set<string>(CLOCKED_FIELDS);

/** A draft field against CIAM's value: lists as sets, custom attributes as strings. */
const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) => {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  return left.size === right.size && [...left].every((item) => right.has(item));
};

interface RawDiff {
  field: string;
  from: unknown;
  to: unknown;
  /** The clocked field it is judged under; undefined for UserGroup and UserOrg. */
  clockField: string | undefined;
}

/** Fields of the draft whose value CIAM does not hold (UserStoreId aside). */
export const differingFields = (draft: UpdateUserDraft, user: CiamUser): RawDiff[] => {
  const diffs: RawDiff[] = [];
  for (const [field, value] of Object.entries(draft)) {
    if (value === undefined || field === 'UserStoreId' || field === 'CustomizationAttributes') {
      continue;
    }
    if (field === 'UserGroup' || field === 'UserOrg') {
      const now = field === 'UserGroup' ? user.UserGroups : user.UserOrgs;
      if (!sameList(value as string[], now)) {
        diffs.push({ field, from: now, to: value, clockField: undefined });
      }
      continue;
    }
    const now = user[field];
    if (now !== value) {
      diffs.push({
        field,
        from: now,
        to: value,
        clockField: CLOCKED.has(field) ? field : undefined,
      });
    }
  }
  for (const item of draft.CustomizationAttributes ?? []) {
    const now = user.CustomAttributes?.find((attribute) => attribute.Name === item.Name)?.Value;
    if (now !== String(item.Value)) {
      diffs.push({
        field: `custom:${item.Name}`,
        from: now,
        to: item.Value,
        clockField: customField(item.Name),
      });
    }
  }
  return diffs;
};

export interface UserDiff {
  fields: FieldDiff[];
  held: HeldField[];
}

/**
 * What a snapshot change would still set on a CIAM user: the fields whose value differs and whose
 * clock the change is newer than (the same rule the consumer applies it by). A differing field
 * whose clock holds a change at least as new is `held`: a webhook that landed after the source's
 * `updated_at` keeps its value.
 */
export const diffUser = (
  draft: UpdateUserDraft,
  user: CiamUser,
  target: Pick<ApplyTarget, 'guard'>,
  clock: Clock | undefined,
): UserDiff => {
  const raw = differingFields(draft, user);
  const guard = target.guard;
  const fields: FieldDiff[] = [];
  const held: HeldField[] = [];
  const clocks =
    guard === undefined
      ? undefined
      : readClocks(
          user.CustomAttributes,
          guard,
          raw.flatMap(({ clockField }) => (clockField === undefined ? [] : [clockField])),
        );
  for (const diff of raw) {
    if (guard !== undefined && clocks !== undefined && clock !== undefined) {
      const verdict =
        diff.clockField === undefined
          ? 'newer'
          : verdictFor(clock, clocks.get(diff.clockField), guard.authorityOf(diff.clockField));
      if (verdict !== 'newer') {
        held.push({ field: diff.field, verdict });
        continue;
      }
    }
    fields.push({
      field: diff.field,
      from: maskValue(diff.field, diff.from),
      to: maskValue(diff.field, diff.to),
    });
  }
  return { fields, held };
};

/** The draft reduced to the fields a plan entry changes (and the user store). */
export const trimDraft = (draft: UpdateUserDraft, fields: readonly string[]): UpdateUserDraft => {
  const wanted = new Set(fields);
  const out: Record<string, unknown> = { UserStoreId: draft.UserStoreId };
  for (const [field, value] of Object.entries(draft)) {
    if (field !== 'CustomizationAttributes' && wanted.has(field)) out[field] = value;
  }
  const custom = (draft.CustomizationAttributes ?? []).filter((item) =>
    wanted.has(`custom:${item.Name}`),
  );
  if (custom.length > 0) out.CustomizationAttributes = custom;
  return out as unknown as UpdateUserDraft;
};

/** A connection as reconciliation needs it: its config and its stale-event guard. */
export type ReconcileTarget = Connection & Pick<ApplyTarget, 'guard'>;

export interface PlanPageInput {
  users: readonly SourceUser[];
  /** CIAM users by the connection's resolve key (indexSnapshot). */
  index: ReadonlyMap<string, readonly CiamUser[]>;
  target: ReconcileTarget;
  mapper: Mapper;
  /** The connection's scoping filter (`connectionFilter`); every user is inside when left out. */
  filter?: CompiledFilter | undefined;
  /**
   * Plans group memberships for source users that carry their groups (a connection with a
   * `groups` setting); without it memberships are not reconciled.
   */
  memberships?: MembershipPlanner | undefined;
}

export interface PlannedUser {
  entry: PlanEntry | undefined;
  /**
   * The CIAM user it matched, if one: also for a filtered or deprovisioned source user, whose CIAM
   * user is then no orphan of the source.
   */
  matchedUserId: string | undefined;
  held: number;
  outcome: SeenUser['outcome'];
}

const errorEntry = (externalId: string, error: unknown): PlanEntry => ({
  kind: 'error',
  externalId,
  code: isAdapterError(error) ? error.code : 'INTERNAL',
  message: error instanceof Error ? error.message : String(error),
});

/** The CIAM user a source user's key finds when exactly one does; no error when it has no key. */
const onlyMatch = (
  change: UserChange,
  { index, target }: Pick<PlanPageInput, 'index' | 'target'>,
): CiamUser | undefined => {
  let key: string;
  try {
    key = resolutionValue(target, change).value;
  } catch {
    return undefined;
  }
  const matches = index.get(key) ?? [];
  return matches.length === 1 ? matches[0] : undefined;
};

/**
 * One source user against the snapshot, through the same filter, mapping, user resolution and
 * field clocks as its webhooks. No I/O: the snapshot is already read. A user whose mapping fails,
 * or whom several CIAM users match, is an `error` entry; matched with nothing to change, no entry.
 * A user the filter leaves out is not planned; one the source has switched off gets no attribute
 * update: matched, it is reported with the orphans; unmatched, it is never created.
 */
export const planSourceUser = async (
  source: SourceUser,
  { index, target, mapper, filter, memberships }: Omit<PlanPageInput, 'users'>,
): Promise<PlannedUser> => {
  const change: UserChange = source.change;
  const none = { entry: undefined, matchedUserId: undefined, held: 0 };
  const filtered = (): PlannedUser => ({
    ...none,
    matchedUserId: onlyMatch(change, { index, target })?.UserId,
    outcome: 'filtered',
  });
  // As the webhook path decides (planChanges): without `update` in its paths the filter runs before
  // mapping, so a user it leaves out is not reported for a mapping problem.
  const early = filter !== undefined && !filter.roots.has('update');
  if (filter !== undefined && early && !filter({ change })) return filtered();
  let draft: UpdateUserDraft;
  let key: string;
  try {
    key = resolutionValue(target, change).value;
    draft = await mapper.map(change);
  } catch (error) {
    // Its CIAM user, if the key finds one, is not an orphan for want of a mapping.
    return {
      ...none,
      entry: errorEntry(source.externalId, error),
      matchedUserId: onlyMatch(change, { index, target })?.UserId,
      outcome: 'error',
    };
  }
  if (filter !== undefined && !early && !filter({ change, update: draft })) return filtered();
  const matches = index.get(key) ?? [];
  if (matches.length > 1) {
    return {
      ...none,
      entry: {
        kind: 'error',
        externalId: source.externalId,
        code: 'USER_AMBIGUOUS',
        message: `${matches.length} CIAM users match by ${target.resolve.by}`,
      },
      outcome: 'error',
    };
  }
  const [user] = matches;
  if (source.deprovisioned === true) {
    return user?.UserId === undefined
      ? { ...none, outcome: 'deprovisioned' }
      : {
          entry: {
            kind: 'orphaned',
            userId: user.UserId,
            ...(user.Status === undefined ? {} : { status: user.Status }),
            reason: 'deprovisioned',
            externalId: source.externalId,
          },
          matchedUserId: user.UserId,
          held: 0,
          outcome: 'deprovisioned',
        };
  }
  if (user?.UserId === undefined) {
    return {
      ...none,
      entry: { kind: 'unmatched', externalId: source.externalId, change },
      outcome: 'unmatched',
    };
  }
  const clock = target.guard === undefined ? undefined : clockOf(target.guard, change);
  if (target.guard !== undefined && clock === undefined) {
    return {
      ...none,
      entry: {
        kind: 'error',
        externalId: source.externalId,
        code: 'PAYLOAD_INVALID',
        message: 'The source user has no valid updated_at',
      },
      matchedUserId: user.UserId,
      outcome: 'error',
    };
  }
  const { fields, held } = diffUser(draft, user, target, clock);
  let groups: Awaited<ReturnType<MembershipPlanner['plan']>> | undefined;
  if (memberships !== undefined && source.groups !== undefined) {
    try {
      groups = await memberships.plan(source.groups, change, user, clock);
    } catch (error) {
      // A group mapped to nothing under `unmapped: refuse`: this user is reported, not the run.
      return {
        ...none,
        entry: errorEntry(source.externalId, error),
        matchedUserId: user.UserId,
        outcome: 'error',
      };
    }
    held.push(...groups.held);
  }
  const joins = groups?.memberships ?? [];
  return {
    entry:
      fields.length === 0 && joins.length === 0
        ? undefined
        : {
            kind: 'change',
            externalId: source.externalId,
            userId: user.UserId,
            fields,
            ...(joins.length > 0 ? { memberships: groups?.shown ?? [] } : {}),
            ...(held.length > 0 ? { held } : {}),
            change: joins.length > 0 ? { ...change, memberships: joins } : change,
          },
    matchedUserId: user.UserId,
    held: held.length,
    outcome: 'matched',
  };
};

/**
 * Whether a CIAM user is linked to this connection: its field clocks name the connection (the
 * adapter wrote some field of it for this connection, from a webhook or an earlier run). Other
 * connections share the user store, so a user the source does not list is an orphan only if this
 * connection ever wrote it.
 */
export const isLinked = (user: CiamUser, target: ReconcileTarget): boolean => {
  const guard = target.guard;
  if (guard === undefined) return false;
  const clocks = readClocks(user.CustomAttributes, guard, []);
  for (const clock of clocks.values()) if (clock.connection === guard.connection) return true;
  return false;
};

/** CIAM users linked to this connection that no source user matched. */
export const findOrphans = (
  users: readonly CiamUser[],
  matched: ReadonlySet<string>,
  target: ReconcileTarget,
): PlanEntry[] =>
  users
    .filter(
      (user) => user.UserId !== undefined && !matched.has(user.UserId) && isLinked(user, target),
    )
    .map((user) => ({
      kind: 'orphaned' as const,
      userId: user.UserId as string,
      ...(user.Status === undefined ? {} : { status: user.Status }),
    }));
