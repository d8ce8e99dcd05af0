import {
  type AppliedUpdate,
  type ApplyDeps,
  applyUpdate,
  type PlannedUpdate,
} from '../ciam/apply.ts';
import type { CallOptions } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';

export type DeliveryReport =
  | { status: 'applied'; results: AppliedUpdate[] }
  | { status: 'queued'; eventIds: string[] };

/**
 * The seam between ingestion and delivery: `sync` applies inside the request; `queued` (a later
 * issue) will hand the same planned updates to SQS FIFO and answer 202.
 */
export type Deliver = (
  connection: Connection,
  updates: readonly PlannedUpdate[],
  options: CallOptions,
) => Promise<DeliveryReport>;

/**
 * Applies changes one after another, in the order the sender gave them: a batch may change the
 * same user twice, and the later change must win. The first failure stops the batch; what was
 * applied stays applied, and a redelivery converges because UpdateUser sets absolute values.
 */
export const createSyncDelivery =
  (deps: ApplyDeps): Deliver =>
  async (connection, updates, options) => {
    const results: AppliedUpdate[] = [];
    for (const planned of updates) {
      results.push(await applyUpdate(deps, connection, planned, options));
    }
    return { status: 'applied', results };
  };
