// The reconciliation's composition (the scheduled function and `npm run reconcile`): its
// dependencies, built from the shared runtime.
import { setTimeout as wait } from 'node:timers/promises';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Connection } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { AdapterError } from '../errors.ts';
import type { HttpFetch } from '../fetch.ts';
import { compileMapping, type Mapper } from '../mapping/index.ts';
import { metricsDrift, type RecordDrift } from '../metrics.ts';
import type { ReconcileHandlerDeps } from '../reconcile/handler.ts';
import type { ReconcileTarget } from '../reconcile/planner.ts';
import {
  type CreateSourceUserLister,
  createSourceUserLister,
  type SourceUserLister,
  withLocalSourceApi,
} from '../source-apis/index.ts';
import type { Runtime } from './index.ts';

export interface ReconcileDepsOptions {
  /** The sources' user API clients (default: lib/source-apis' `createSourceUserLister`). */
  createLister?: CreateSourceUserLister;
  /**
   * The listers' fetch. Default: the global fetch, not the runtime's keep-alive one: Auth0's
   * export file is gzip, read with `arrayBuffer`, which the keep-alive fetch's responses lack.
   */
  fetch?: HttpFetch;
  /**
   * Local runs only: the origin of the sources' API stand-ins, in place of the one each
   * `reconcile.api.baseUrl` names (`withLocalSourceApi`).
   */
  sourceApisUrl?: string;
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
  const createLister = options.createLister ?? createSourceUserLister;
  const fetch = options.fetch ?? globalThis.fetch;
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
      // Its tenant's CIAM: the snapshot, creations, freezes and lookups all go to the account and
      // user store the connection writes to, never the default tenant's.
      const tenant = runtime.tenants.of(connection);
      return {
        target: reconcileTarget,
        mapper,
        lister:
          options.lister ??
          createLister(withLocalSourceApi(connection, options.sourceApisUrl), {
            fetch,
            secrets: runtime.secrets,
            now: runtime.now,
            sleep,
          }),
        ciam: tenant.ciam,
        resolver: tenant.resolver,
        groups: tenant.groups,
      };
    },
    queue: runtime.queue,
    now: runtime.now,
    logger: runtime.logger,
    recordDrift:
      options.recordDrift ?? metricsDrift(new Metrics({ serviceName: 'ciam-webhook-adapter' })),
  };
};
