// The reconciliation's composition (the scheduled function and `npm run reconcile`): its
// dependencies, built from the shared runtime.
import { setTimeout as wait } from 'node:timers/promises';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Connection } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { AdapterError, ConfigError } from '../errors.ts';
import { compileMapping, type Mapper } from '../mapping/index.ts';
import { metricsDrift, type RecordDrift } from '../metrics.ts';
import type { ReconcileHandlerDeps } from '../reconcile/handler.ts';
import type { ReconcileTarget } from '../reconcile/planner.ts';
import type { CreateSourceUserLister, SourceUserLister } from '../source-apis/types.ts';
import type { Runtime } from './index.ts';

/**
 * Until this build carries the sources' user API clients, listing fails with CONFIG_INVALID, so a
 * scheduled run reports an incomplete plan (and applies nothing) instead of failing cold start.
 * The clients plug in here (`createSourceUserLister` of lib/source-apis).
 */
const noSourceApis: CreateSourceUserLister = (connection) => ({
  listPage: () =>
    Promise.reject(
      new ConfigError(
        `No user API client for ${connection.reconcile?.api.kind ?? 'this source'} in this build`,
      ),
    ),
});

export interface ReconcileDepsOptions {
  /** The sources' user API clients; tests and the CLI pass theirs. */
  createLister?: CreateSourceUserLister;
  /** Replaces the source lister of every connection (an export file, a test's in-memory list). */
  lister?: SourceUserLister;
  recordDrift?: RecordDrift;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The reconciliation's dependencies, from the shared runtime. */
export const reconcileDeps = (
  runtime: Runtime,
  options: ReconcileDepsOptions = {},
): ReconcileHandlerDeps => {
  const targets = applyTargetsOf(runtime.config);
  const mappers = new Map<string, Mapper>();
  const createLister = options.createLister ?? noSourceApis;
  const sleep =
    options.sleep ??
    ((ms: number, signal?: AbortSignal) =>
      wait(ms, undefined, signal === undefined ? {} : { signal }));
  return {
    connection(connectionId) {
      const found = runtime.config.connections.find((item) => item.id === connectionId);
      const target = targets.get(connectionId);
      if (found === undefined || target === undefined) {
        throw new AdapterError('CONNECTION_NOT_FOUND', `No connection ${connectionId}`);
      }
      const connection: Connection = found;
      if (options.lister === undefined && connection.reconcile === undefined) {
        throw new AdapterError(
          'CONFIG_INVALID',
          `Connection ${connectionId} has no reconcile block: nothing says how to list its users`,
        );
      }
      let mapper = mappers.get(connectionId);
      if (mapper === undefined) {
        mapper = compileMapping(connection);
        mappers.set(connectionId, mapper);
      }
      const reconcileTarget: ReconcileTarget = { ...connection, guard: target.guard };
      return {
        target: reconcileTarget,
        mapper,
        lister:
          options.lister ??
          createLister(connection, {
            fetch: runtime.fetch,
            secrets: runtime.secrets,
            now: runtime.now,
            sleep,
          }),
      };
    },
    ciam: runtime.ciam,
    resolver: runtime.resolver,
    queue: runtime.queue,
    now: runtime.now,
    logger: runtime.logger,
    recordDrift:
      options.recordDrift ?? metricsDrift(new Metrics({ serviceName: 'ciam-webhook-adapter' })),
  };
};
