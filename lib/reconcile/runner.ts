import type { GroupResolver } from '../ciam/groups.ts';
import type { CallOptions, CiamApi, CiamUser } from '../ciam/types.ts';
import { isAdapterError } from '../errors.ts';
import { connectionFilter } from '../filter/index.ts';
import type { Mapper } from '../mapping/index.ts';
import type { SourceUser, SourceUserLister } from '../source-apis/types.ts';
import { createMembershipPlanner } from './memberships.ts';
import { newPlan, type ReconcilePlan, type SeenUser } from './plan.ts';
import { findOrphans, planSourceUser, type ReconcileTarget } from './planner.ts';
import { indexSnapshot, readCiamSnapshot } from './snapshot.ts';

export interface PlanDeps {
  ciam: Pick<CiamApi, 'describeUser'>;
  lister: SourceUserLister;
  mapper: Mapper;
  target: ReconcileTarget;
  /** Epoch milliseconds. */
  now: () => number;
  /** Called after every source page (and at the end): the runner's checkpoint, e.g. the plan file. */
  checkpoint?: (plan: ReconcilePlan) => void | Promise<void>;
  /** DescribeUser page size (default 100). */
  pageSize?: number;
  /** Finds CIAM groups by name for a connection with a `groups` setting (its tenant's). */
  groups?: GroupResolver | undefined;
}

const copyPlan = (plan: ReconcilePlan): ReconcilePlan => structuredClone(plan);

/**
 * Plans a reconciliation: reads the CIAM user store once (a page per call), then lists the source
 * page by page, planning each user against the snapshot, and checkpoints after every page. When
 * the source fails mid-way, the plan says so (`complete: false`, the cursor reached, the error's
 * code) and nothing is applied; `resume` continues such a plan from its cursor, with a fresh CIAM
 * snapshot. Orphans are found once the last page is in.
 */
export const planReconcile = async (
  deps: PlanDeps,
  options: CallOptions & { resume?: ReconcilePlan } = {},
): Promise<ReconcilePlan> => {
  const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
  const plan: ReconcilePlan =
    options.resume === undefined ? newPlan(deps.target.id, deps.now()) : copyPlan(options.resume);
  delete plan.error;
  const snapshot = await readCiamSnapshot(deps.ciam, deps.target.userStoreId, {
    ...call,
    ...(deps.pageSize === undefined ? {} : { pageSize: deps.pageSize }),
  });
  plan.counts.ciamCalls += snapshot.calls;
  const index = indexSnapshot(deps.target.resolve, snapshot.users);
  const matched = new Set(plan.matchedUserIds);
  const seen = new Map(Object.entries(plan.seen ?? {}));
  const filter = connectionFilter(deps.target);
  // Memberships only for a connection that maps groups, as its lister reads them only then.
  const memberships =
    deps.target.groups === undefined
      ? undefined
      : createMembershipPlanner(deps.target, deps.groups);
  const checkpoint = async () => {
    plan.updatedAt = new Date(deps.now()).toISOString();
    plan.matchedUserIds = [...matched];
    plan.seen = Object.fromEntries(seen);
    await deps.checkpoint?.(plan);
  };
  const planOne = async (user: SourceUser) => {
    const before = seen.get(user.externalId);
    if (before !== undefined) {
      // Listed again (Auth0's export after paging, a user that moved between pages): the same or
      // an older copy adds nothing; a newer one replaces what the older one planned.
      plan.counts.duplicates += 1;
      if (!(Date.parse(user.updatedAt) > Date.parse(before.updatedAt))) return;
      forget(plan, user.externalId, before);
    } else {
      plan.counts.sourceUsers += 1;
    }
    const planned = await planSourceUser(user, {
      index,
      target: deps.target,
      mapper: deps.mapper,
      filter,
      memberships,
    });
    seen.set(user.externalId, {
      updatedAt: user.updatedAt,
      outcome: planned.outcome,
      ...(planned.held > 0 ? { held: planned.held } : {}),
    });
    plan.counts.held += planned.held;
    if (planned.matchedUserId !== undefined) matched.add(planned.matchedUserId);
    if (planned.outcome === 'matched') plan.counts.matched += 1;
    else if (planned.outcome === 'filtered') plan.counts.filtered += 1;
    else if (planned.outcome === 'deprovisioned') plan.counts.deprovisioned += 1;
    const entry = planned.entry;
    if (entry === undefined) return;
    plan.entries.push(entry);
    if (entry.kind === 'change') plan.counts.changes += 1;
    else if (entry.kind === 'unmatched') plan.counts.unmatched += 1;
    else if (entry.kind === 'error') plan.counts.errors += 1;
  };

  if (!plan.complete) {
    let cursor = plan.cursor;
    for (;;) {
      let page: Awaited<ReturnType<SourceUserLister['listPage']>>;
      try {
        page = await deps.lister.listPage(cursor, call);
      } catch (error) {
        // Never a half-applied guess: the plan stops here, says why, and can be resumed.
        plan.error = {
          code: isAdapterError(error) ? error.code : 'SOURCE_UNAVAILABLE',
          message: error instanceof Error ? error.message : String(error),
        };
        await checkpoint();
        return plan;
      }
      const first = page.users[0];
      if (memberships !== undefined && page.groups !== undefined && first !== undefined) {
        try {
          await memberships.learn(page.groups, first.change);
        } catch (error) {
          plan.error = {
            code: isAdapterError(error) ? error.code : 'INTERNAL',
            message: error instanceof Error ? error.message : String(error),
          };
          await checkpoint();
          return plan;
        }
      }
      for (const user of page.users) await planOne(user);
      plan.pages += 1;
      cursor = page.next;
      plan.cursor = cursor;
      if (cursor === undefined) break;
      await checkpoint();
    }
  }
  // Orphans against this run's snapshot (a resumed plan drops the ones found before; deprovisioned
  // source users' stay: the source listed them).
  plan.entries = plan.entries.filter(
    (entry) => entry.kind !== 'orphaned' || entry.reason === 'deprovisioned',
  );
  plan.entries.push(...findOrphans(snapshot.users as CiamUser[], matched, deps.target));
  plan.counts.orphaned = plan.entries.filter((entry) => entry.kind === 'orphaned').length;
  plan.complete = true;
  plan.cursor = undefined;
  await checkpoint();
  return plan;
};

/** Takes back what an older copy of a source user added to the plan, before a newer one replaces it. */
const forget = (plan: ReconcilePlan, externalId: string, before: SeenUser): void => {
  const at = plan.entries.findIndex(
    (entry) =>
      (entry.kind === 'orphaned' ? entry.reason === 'deprovisioned' : true) &&
      'externalId' in entry &&
      entry.externalId === externalId,
  );
  const entry = at < 0 ? undefined : plan.entries[at];
  if (entry !== undefined) {
    plan.entries.splice(at, 1);
    if (entry.kind === 'change') plan.counts.changes -= 1;
    else if (entry.kind === 'unmatched') plan.counts.unmatched -= 1;
    else if (entry.kind === 'error') plan.counts.errors -= 1;
  }
  plan.counts.held -= before.held ?? 0;
  if (before.outcome === 'matched') plan.counts.matched -= 1;
  else if (before.outcome === 'filtered') plan.counts.filtered -= 1;
  else if (before.outcome === 'deprovisioned') plan.counts.deprovisioned -= 1;
};

/** The run's last line, the same for the CLI and the scheduled function's log. */
export const summaryLine = (plan: ReconcilePlan, applied: number): string =>
  `RECONCILE connection=${plan.connectionId} source_users=${plan.counts.sourceUsers} matched=${plan.counts.matched} unmatched=${plan.counts.unmatched} orphaned=${plan.counts.orphaned} changes=${plan.counts.changes} applied=${applied}`;

/** What a plan would change, one line per field, values masked: for people, not machines. */
export const describePlan = (plan: ReconcilePlan): string[] => {
  const lines: string[] = [];
  for (const entry of plan.entries) {
    switch (entry.kind) {
      case 'change':
        for (const { field, from, to } of entry.fields) {
          lines.push(`change   ${entry.externalId} → ${entry.userId}  ${field}: ${from} → ${to}`);
        }
        if (entry.memberships !== undefined) {
          const groups = entry.memberships.map(
            ({ group, member }) => `${member ? '+' : '-'}${group.name ?? group.id}`,
          );
          lines.push(
            `change   ${entry.externalId} → ${entry.userId}  groups: ${groups.join(', ')}`,
          );
        }
        for (const { field, verdict } of entry.held ?? []) {
          lines.push(`held     ${entry.externalId} → ${entry.userId}  ${field} (${verdict})`);
        }
        break;
      case 'unmatched':
        lines.push(`unmatched ${entry.externalId}  (no CIAM user)`);
        break;
      case 'orphaned':
        lines.push(
          `orphaned ${entry.userId}  (${entry.reason === 'deprovisioned' ? `deprovisioned at the source: ${entry.externalId ?? '?'}` : 'not at the source'}${entry.status === 'FREEZE' ? '; frozen' : ''})`,
        );
        break;
      case 'error':
        lines.push(`error    ${entry.externalId}  ${entry.code}`);
        break;
    }
  }
  return lines;
};
