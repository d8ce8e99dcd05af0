import type { CallOptions, CiamApi, CiamUser } from '../ciam/types.ts';
import { isAdapterError } from '../errors.ts';
import type { Mapper } from '../mapping/index.ts';
import type { SourceUserLister } from '../source-apis/types.ts';
import { newPlan, type ReconcilePlan } from './plan.ts';
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
  const checkpoint = async () => {
    plan.updatedAt = new Date(deps.now()).toISOString();
    plan.matchedUserIds = [...matched];
    await deps.checkpoint?.(plan);
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
      for (const user of page.users) {
        plan.counts.sourceUsers += 1;
        const planned = await planSourceUser(user, {
          index,
          target: deps.target,
          mapper: deps.mapper,
        });
        plan.counts.held += planned.held;
        if (planned.matchedUserId !== undefined) {
          plan.counts.matched += 1;
          matched.add(planned.matchedUserId);
        }
        const entry = planned.entry;
        if (entry === undefined) continue;
        plan.entries.push(entry);
        if (entry.kind === 'change') plan.counts.changes += 1;
        else if (entry.kind === 'unmatched') plan.counts.unmatched += 1;
        else if (entry.kind === 'error') plan.counts.errors += 1;
      }
      plan.pages += 1;
      cursor = page.next;
      plan.cursor = cursor;
      if (cursor === undefined) break;
      await checkpoint();
    }
  }
  // Orphans against this run's snapshot (a resumed plan drops the ones found before).
  plan.entries = plan.entries.filter((entry) => entry.kind !== 'orphaned');
  const orphans = findOrphans(snapshot.users as CiamUser[], matched, deps.target);
  plan.entries.push(...orphans);
  plan.counts.orphaned = orphans.length;
  plan.complete = true;
  plan.cursor = undefined;
  await checkpoint();
  return plan;
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
        for (const { field, verdict } of entry.held ?? []) {
          lines.push(`held     ${entry.externalId} → ${entry.userId}  ${field} (${verdict})`);
        }
        break;
      case 'unmatched':
        lines.push(`unmatched ${entry.externalId}  (no CIAM user)`);
        break;
      case 'orphaned':
        lines.push(
          `orphaned ${entry.userId}  (not at the source${entry.status === 'FREEZE' ? '; frozen' : ''})`,
        );
        break;
      case 'error':
        lines.push(`error    ${entry.externalId}  ${entry.code}`);
        break;
    }
  }
  return lines;
};
