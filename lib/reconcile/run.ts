import type { GroupResolver } from '../ciam/groups.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import type { CallOptions, CiamApi } from '../ciam/types.ts';
import type { Mapper } from '../mapping/index.ts';
import type { QueuePort } from '../queue/types.ts';
import type { SourceUserLister } from '../source-apis/types.ts';
import {
  type ApplyPolicy,
  type ApplyReport,
  actionsOf,
  applyPlan,
  defaultMaxChanges,
} from './apply.ts';
import type { ReconcilePlan } from './plan.ts';
import type { ReconcileTarget } from './planner.ts';
import { planReconcile } from './runner.ts';

/**
 * One connection, ready to reconcile: its config and guard, its mapping, its source's lister, and
 * its CIAM tenant's client and user lookups (every CIAM call of its run goes to its tenant).
 */
export interface ReconcileConnection {
  target: ReconcileTarget;
  mapper: Mapper;
  lister: SourceUserLister;
  ciam: Pick<CiamApi, 'describeUser' | 'createUser' | 'updateUserStatus'>;
  resolver: Pick<UserResolver, 'resolve'>;
  /**
   * Its tenant's CIAM groups by name, for a connection with a `groups` setting; without it only
   * `groups.map` maps source groups.
   */
  groups?: GroupResolver | undefined;
}

/** What a run needs besides the connection; the CLI and the scheduled function build it alike. */
export interface ReconcileRunDeps {
  /** The FIFO queue changes are applied through; undefined: plan only. */
  queue: QueuePort | undefined;
  now: () => number;
}

export interface RunOptions extends CallOptions {
  /** Apply the plan (within the threshold, or beyond it with `yes`). */
  apply: boolean;
  yes?: boolean;
  /** Replaces the connection's `reconcile.maxChanges` (and the default). */
  maxChanges?: number;
  /** A plan made before: applied as it is when complete, else resumed from its cursor first. */
  plan?: ReconcilePlan;
  /** Skip planning and apply `plan` as it is (`--apply <file>`). */
  applySaved?: boolean;
  checkpoint?: (plan: ReconcilePlan) => void | Promise<void>;
  /** DescribeUser page size for the CIAM snapshot. */
  pageSize?: number;
}

export interface RunOutcome {
  plan: ReconcilePlan;
  /** Why nothing was applied, when `apply` was asked for. */
  refused?: 'incomplete' | 'threshold';
  /** The threshold the plan was measured against, and how many actions it asks for. */
  threshold: number;
  actions: number;
  report?: ApplyReport;
  /** Queued + created + frozen. */
  applied: number;
}

export const policyOf = (target: ReconcileTarget): ApplyPolicy => ({
  createUnmatched: target.reconcile?.createUnmatched === true,
  freezeOrphans: target.reconcile?.orphans === 'freeze',
});

/**
 * Plan (or resume, or take a saved plan), then apply within the threshold. A plan with more
 * actions than the threshold is applied only with `yes`, as Entra's accidental-deletion threshold
 * stops a provisioning cycle: a mis-set mapping or an emptied source would otherwise rewrite
 * every user at once.
 */
export const runReconcile = async (
  deps: ReconcileRunDeps,
  connection: ReconcileConnection,
  options: RunOptions,
): Promise<RunOutcome> => {
  const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
  const plan =
    options.applySaved === true && options.plan !== undefined
      ? options.plan
      : await planReconcile(
          {
            ciam: connection.ciam,
            lister: connection.lister,
            mapper: connection.mapper,
            target: connection.target,
            now: deps.now,
            groups: connection.groups,
            ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
            ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
          },
          { ...call, ...(options.plan === undefined ? {} : { resume: options.plan }) },
        );
  const policy = policyOf(connection.target);
  const threshold =
    options.maxChanges ??
    connection.target.reconcile?.maxChanges ??
    defaultMaxChanges(plan.counts.sourceUsers);
  const actions = actionsOf(plan, policy);
  const outcome: RunOutcome = { plan, threshold, actions, applied: 0 };
  if (!options.apply) return outcome;
  if (!plan.complete) return { ...outcome, refused: 'incomplete' };
  if (actions > threshold && options.yes !== true) return { ...outcome, refused: 'threshold' };
  if (deps.queue === undefined) {
    throw new Error('Applying needs the queue (QUEUE_URL, or --local)');
  }
  const report = await applyPlan(
    {
      queue: deps.queue,
      ciam: connection.ciam,
      resolver: connection.resolver,
      mapper: connection.mapper,
      target: connection.target,
      now: deps.now,
      groups: connection.groups,
    },
    plan,
    policy,
    call,
  );
  return { ...outcome, report, applied: report.queued + report.created + report.frozen };
};
