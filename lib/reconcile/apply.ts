import { randomBytes } from 'node:crypto';
import type { UserChange } from '../change.ts';
import type { PlannedUpdate } from '../ciam/apply.ts';
import { clockFieldsOf, encodeClocks } from '../ciam/field-clocks.ts';
import type { GroupResolver } from '../ciam/groups.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import { clockOf } from '../ciam/stale-guard.ts';
import type { CallOptions, CiamApi } from '../ciam/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import type { Mapper } from '../mapping/index.ts';
import { createQueuedDelivery } from '../queue/producer.ts';
import type { QueuePort } from '../queue/types.ts';
import { createRequestOf } from '../scim/plan.ts';
import { plannedMembershipMapper } from './memberships.ts';
import type { ChangeEntry, PlanEntry, ReconcilePlan } from './plan.ts';
import { type ReconcileTarget, trimDraft } from './planner.ts';

/** What the connection lets a run do beyond updating matched users. */
export interface ApplyPolicy {
  /** Create CIAM users for unmatched source users. */
  createUnmatched: boolean;
  /** Freeze orphaned CIAM users (UpdateUserStatus FREEZE). */
  freezeOrphans: boolean;
}

export interface ApplyDeps {
  queue: QueuePort;
  ciam: Pick<CiamApi, 'createUser' | 'updateUserStatus'>;
  /** Checks an unmatched user is still missing before creating one (it may have appeared since). */
  resolver: Pick<UserResolver, 'resolve'>;
  mapper: Mapper;
  target: ReconcileTarget;
  now: () => number;
  /** Finds CIAM groups by name when a change's memberships are mapped again. */
  groups?: GroupResolver | undefined;
  /** Default: 24 random bytes; nobody signs in with it (sign-in is the source's business). */
  password?: () => string;
}

export interface ApplyFailure {
  kind: PlanEntry['kind'];
  /** The source user id, or the CIAM user id of an orphan. */
  id: string;
  code: string;
}

export interface ApplyReport {
  /** Changes handed to the queue: the consumer applies them field by field against the clocks. */
  queued: number;
  created: number;
  frozen: number;
  failures: ApplyFailure[];
}

/** How many actions a plan asks for under a policy: what the threshold counts. */
export const actionsOf = (plan: ReconcilePlan, policy: ApplyPolicy): number =>
  plan.entries.filter(
    (entry) =>
      entry.kind === 'change' ||
      (entry.kind === 'unmatched' && policy.createUnmatched) ||
      (entry.kind === 'orphaned' && policy.freezeOrphans && entry.status !== 'FREEZE'),
  ).length;

/** The default threshold: 10 % of the source users, at least 10. */
export const defaultMaxChanges = (sourceUsers: number): number =>
  Math.max(10, Math.floor(sourceUsers / 10));

/** Changes queued per producer call: each call sends its messages in batches of 10. */
const QUEUE_CHUNK = 100;

const codeOf = (error: unknown): string => (isAdapterError(error) ? error.code : 'INTERNAL');

/**
 * Applies a complete plan. Changes go through the queue exactly as queued webhook changes do: one
 * FIFO group per CIAM user, deduplicated by the snapshot's event id, applied by the consumer at
 * CIAM's rate against the field clocks, so a webhook that landed after the source was read keeps
 * its fields. The producer's resolver answers from the plan (the snapshot already found each
 * user), so queueing costs no CIAM call. Creations and freezes are direct CIAM calls.
 */
export const applyPlan = async (
  deps: ApplyDeps,
  plan: ReconcilePlan,
  policy: ApplyPolicy,
  options: CallOptions = {},
): Promise<ApplyReport> => {
  if (!plan.complete) {
    throw new AdapterError(
      'RECONCILE_PLAN_INVALID',
      'The plan is incomplete: finish it (--resume) before applying it',
      { details: { reason: 'incomplete' } },
    );
  }
  if (plan.connectionId !== deps.target.id) {
    throw new AdapterError('RECONCILE_PLAN_INVALID', 'The plan is for another connection', {
      details: { reason: 'connection' },
    });
  }
  const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
  const report: ApplyReport = { queued: 0, created: 0, frozen: 0, failures: [] };
  const changes = plan.entries.filter((entry): entry is ChangeEntry => entry.kind === 'change');

  // By the change itself (the producer hands back the object it was given), not its event id: a
  // source's snapshot ids need not be unique across users.
  const userIds = new WeakMap<object, string>(changes.map((entry) => [entry.change, entry.userId]));
  const deliver = createQueuedDelivery({
    queue: deps.queue,
    resolver: {
      resolve: (connection, change, resolveOptions) => {
        const userId = userIds.get(change);
        return userId === undefined
          ? deps.resolver.resolve(connection, change, resolveOptions)
          : Promise.resolve(userId);
      },
    },
    now: deps.now,
  });
  const mapMemberships = plannedMembershipMapper(deps.target, deps.groups);
  let chunk: PlannedUpdate[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const sent = await deliver(deps.target, chunk, {
      ...call,
      traceId: `reconcile:${plan.createdAt}`,
    });
    report.queued += sent.results.length;
    chunk = [];
  };
  for (const entry of changes) {
    try {
      const draft = await deps.mapper.map(entry.change);
      // Memberships go in the same update as the fields: one write per user, each membership
      // judged by its own clock, as a membership event's are.
      const memberships = await mapMemberships(entry.change, options.signal);
      chunk.push({
        change: entry.change,
        draft: trimDraft(
          draft,
          entry.fields.map(({ field }) => field),
        ),
        ...(memberships.length > 0 ? { memberships } : {}),
      });
    } catch (error) {
      // The mapping changed since the plan was made: report it, queue the others.
      report.failures.push({ kind: 'change', id: entry.externalId, code: codeOf(error) });
      continue;
    }
    if (chunk.length >= QUEUE_CHUNK) await flush();
  }
  await flush();

  if (policy.createUnmatched) {
    for (const entry of plan.entries) {
      if (entry.kind !== 'unmatched') continue;
      try {
        await createUnmatched(deps, entry.change, call);
        report.created += 1;
      } catch (error) {
        report.failures.push({ kind: 'unmatched', id: entry.externalId, code: codeOf(error) });
      }
    }
  }
  if (policy.freezeOrphans) {
    for (const entry of plan.entries) {
      if (entry.kind !== 'orphaned' || entry.status === 'FREEZE') continue;
      try {
        await deps.ciam.updateUserStatus(
          { UserStoreId: deps.target.userStoreId, UserId: entry.userId, Status: 'FREEZE' },
          call,
        );
        report.frozen += 1;
      } catch (error) {
        report.failures.push({ kind: 'orphaned', id: entry.userId, code: codeOf(error) });
      }
    }
  }
  return report;
};

/**
 * CreateUser for a source user the snapshot did not have, unless a lookup finds it now (created
 * by a webhook since the snapshot was read). The new user carries the snapshot's field clocks, so
 * a webhook older than the source's `updated_at` does not overwrite it afterwards.
 */
const createUnmatched = async (
  deps: ApplyDeps,
  change: UserChange,
  options: CallOptions,
): Promise<void> => {
  try {
    await deps.resolver.resolve(deps.target, change, options);
    throw new AdapterError('UPSTREAM_CONFLICT', 'The user exists in CIAM now');
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
  }
  const draft = await deps.mapper.map(change);
  const strategy = deps.target.resolve;
  if (strategy.by === 'indexedAttribute' && change.subject.externalId !== undefined) {
    // The key later changes find the user by; the mapping may not write it itself.
    draft[`IndexedAttribute${strategy.index}`] ??= change.subject.externalId;
  }
  const guard = deps.target.guard;
  const clock = guard === undefined ? undefined : clockOf(guard, change);
  if (guard !== undefined && clock !== undefined) {
    const clocks = new Map(clockFieldsOf(draft).map((field) => [field, clock]));
    draft.CustomizationAttributes = [
      ...(draft.CustomizationAttributes ?? []),
      { Name: guard.attribute, Value: encodeClocks(clocks), Type: guard.type },
    ];
  }
  const password = deps.password?.() ?? randomBytes(24).toString('base64url');
  const created = await deps.ciam.createUser(createRequestOf(draft, password), options);
  if (created.User?.UserId === undefined) {
    throw new AdapterError('INTERNAL', 'CreateUser returned no user');
  }
};
