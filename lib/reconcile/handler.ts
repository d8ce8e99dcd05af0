// The scheduled reconciliation's handler. Side-effect free: `handlers/reconcile.ts` builds it once
// from the runtime; tests build it from fakes.
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { AdapterError, isErrorCode } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import type { RecordDrift } from '../metrics.ts';
import { type ReconcileConnection, type ReconcileRunDeps, runReconcile } from './run.ts';
import { summaryLine } from './runner.ts';

export interface ReconcileHandlerDeps extends ReconcileRunDeps {
  /**
   * The connection to reconcile, with its source's lister and its tenant's CIAM; throws
   * CONNECTION_NOT_FOUND for an unknown one, CONFIG_INVALID for one without `reconcile`.
   */
  connection(connectionId: string): ReconcileConnection;
  logger: Pick<Logger, 'info' | 'warn' | 'error'> & Partial<Pick<Logger, 'addContext'>>;
  recordDrift: RecordDrift;
  /** Listing stops this long before the function's deadline, leaving time to report. Default 30 s. */
  deadlineMarginMs?: number;
}

/** The EventBridge schedule's input: `{ "connectionId": "<id>" }`. */
export interface ReconcileEvent {
  connectionId: string;
}

export interface ReconcileResult {
  connectionId: string;
  complete: boolean;
  sourceUsers: number;
  changes: number;
  unmatched: number;
  orphaned: number;
  applied: number;
  refused?: string;
}

const DEFAULT_DEADLINE_MARGIN_MS = 30_000;

/**
 * One scheduled run: plan, apply within the threshold, report the drift (a metric the drift alarm
 * watches). Above the threshold it only reports: a person runs `npm run reconcile -- --apply
 * --yes` after reading the plan. A source failure mid-way applies nothing and throws, so the
 * invocation counts as an error; the next schedule starts again.
 */
export const createHandler = (deps: ReconcileHandlerDeps) =>
  middy<ReconcileEvent, ReconcileResult, Error, Context>()
    .use(injectLambdaContext(deps.logger as Logger, { resetKeys: true }))
    .handler(async (event, context) => {
      if (!isRecord(event) || typeof event.connectionId !== 'string') {
        throw new AdapterError('REQUEST_INVALID', 'The schedule input names no connectionId');
      }
      const connection = deps.connection(event.connectionId);
      const budgetMs =
        context.getRemainingTimeInMillis() - (deps.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS);
      const deadline = new AbortController();
      const timer = setTimeout(
        () => deadline.abort(new AdapterError('DEADLINE_EXCEEDED', 'The run is out of time')),
        Math.max(0, budgetMs),
      );
      try {
        const outcome = await runReconcile(deps, connection, {
          apply: true,
          signal: deadline.signal,
        });
        const { plan } = outcome;
        const result: ReconcileResult = {
          connectionId: event.connectionId,
          complete: plan.complete,
          sourceUsers: plan.counts.sourceUsers,
          changes: plan.counts.changes,
          unmatched: plan.counts.unmatched,
          orphaned: plan.counts.orphaned,
          applied: outcome.applied,
          ...(outcome.refused === undefined ? {} : { refused: outcome.refused }),
        };
        const fields = {
          ...result,
          errors: plan.counts.errors,
          held: plan.counts.held,
          filtered: plan.counts.filtered,
          deprovisioned: plan.counts.deprovisioned,
          duplicates: plan.counts.duplicates,
          ciamCalls: plan.counts.ciamCalls,
          threshold: outcome.threshold,
          actions: outcome.actions,
          failures: outcome.report?.failures.length ?? 0,
        };
        if (!plan.complete) {
          deps.logger.error(summaryLine(plan, outcome.applied), {
            ...fields,
            errorCode: plan.error?.code,
          });
          // The listing's own code (DEADLINE_EXCEEDED when the run ran out of time).
          const code = isErrorCode(plan.error?.code) ? plan.error.code : 'SOURCE_UNAVAILABLE';
          throw new AdapterError(code, `Listing the source stopped after ${plan.pages} pages`, {
            details: { code: plan.error?.code },
          });
        }
        // Only a whole plan measures drift: a partial one would read as users fixed.
        deps.recordDrift(event.connectionId, {
          changes: plan.counts.changes,
          unmatched: plan.counts.unmatched,
          orphaned: plan.counts.orphaned,
        });
        if (outcome.refused === 'threshold') {
          deps.logger.warn(summaryLine(plan, 0), {
            ...fields,
            reason: 'more changes than the threshold; apply by hand with --yes',
          });
        } else {
          deps.logger.info(summaryLine(plan, outcome.applied), fields);
        }
        return result;
      } finally {
        clearTimeout(timer);
      }
    });
