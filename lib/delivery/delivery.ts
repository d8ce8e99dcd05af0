import {
  type ApplyDeps,
  type ApplyResult,
  type ApplyTarget,
  applyUpdate,
  type PlannedUpdate,
} from '../ciam/apply.ts';
import { staleGuardOf } from '../ciam/stale-guard.ts';
import type { CallOptions } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { suppliesEventTime } from '../sources/event-time.ts';

/** Stored in the queue, to be applied in order by the consumer. */
export interface QueuedUpdate {
  status: 'queued';
  eventId: string;
  messageId: string;
}

export type DeliveryResult = ApplyResult | QueuedUpdate;

export interface DeliveryReport {
  results: DeliveryResult[];
}

export interface DeliverOptions extends CallOptions {
  /** The request id that accepted the changes, carried into queued messages. */
  traceId?: string;
}

/**
 * The seam between ingestion and delivery: `sync` applies inside the request; `queued` hands the
 * same planned updates to SQS FIFO and answers 202.
 */
export type Deliver = (
  connection: Connection,
  updates: readonly PlannedUpdate[],
  options: DeliverOptions,
) => Promise<DeliveryReport>;

/** The connection as apply needs it, with its stale-event guard resolved once. */
export const applyTargetOf = (connection: Connection): ApplyTarget => ({
  ...connection,
  guard: staleGuardOf(connection, suppliesEventTime(connection)),
});

/**
 * Applies changes one after another, in the order the sender gave them: a batch may change the
 * same user twice, and the later change must win. The first failure stops the batch; what was
 * applied stays applied, and a redelivery converges because the stale-event guard skips what was
 * applied.
 * Concurrent requests for one user wait for each other inside this instance (the keyed lock in
 * `deps`); only queued delivery orders them across instances.
 */
export const createSyncDelivery = (deps: ApplyDeps): Deliver => {
  const targets = new WeakMap<Connection, ApplyTarget>();
  const targetOf = (connection: Connection): ApplyTarget => {
    let target = targets.get(connection);
    if (target === undefined) {
      target = applyTargetOf(connection);
      targets.set(connection, target);
    }
    return target;
  };
  return async (connection, updates, options) => {
    const target = targetOf(connection);
    const call = options.signal === undefined ? {} : { signal: options.signal };
    const results: DeliveryResult[] = [];
    for (const planned of updates) {
      results.push(await applyUpdate(deps, target, planned, call));
    }
    return { results };
  };
};

/** Each connection's own delivery: one function can serve sync and queued connections alike. */
export const byDeliveryMode =
  (modes: { sync: Deliver; queued?: Deliver | undefined }): Deliver =>
  (connection, updates, options) => {
    const deliver = connection.delivery === 'queued' ? modes.queued : modes.sync;
    if (deliver === undefined) {
      // prepareConnections refuses such a configuration at cold start; this guards a wiring bug.
      throw new Error(`No ${connection.delivery} delivery is configured`);
    }
    return deliver(connection, updates, options);
  };
