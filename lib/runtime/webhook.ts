// The webhook function's composition: its chain's dependencies, built from the shared runtime.
import { createKeyedLock } from '../ciam/apply.ts';
import { applyTargetsOf, byDeliveryMode, createSyncDelivery } from '../delivery/delivery.ts';
import { createQueuedDelivery } from '../queue/producer.ts';
import { SOURCES } from '../sources/registry.ts';
import type { WebhookDeps } from '../webhook/handler.ts';
import { prepareConnections } from '../webhook/prepare.ts';
import type { Runtime } from './index.ts';

/** The webhook function's dependencies, from the shared runtime. */
export const webhookDeps = (runtime: Runtime): WebhookDeps => {
  const locks = new Map<string, ReturnType<typeof createKeyedLock>>();
  return {
    connections: prepareConnections(runtime.config, SOURCES, {
      queued: runtime.queue !== undefined,
      // One cache per tenant for all its connections: CIAM allows 20 ListUserGroups calls a
      // second per account.
      groups: (connection) => runtime.tenants.groupsOf(connection),
    }),
    deliver: byDeliveryMode({
      sync: createSyncDelivery({
        targets: applyTargetsOf(runtime.config),
        // The connection's tenant's client and cached lookups, and a lock per tenant.
        applyOf: (connection) => {
          const tenant = runtime.tenants.of(connection);
          const lock = locks.get(tenant.id) ?? createKeyedLock();
          locks.set(tenant.id, lock);
          return { ciam: tenant.ciam, resolver: tenant.resolver, lock };
        },
      }),
      queued:
        runtime.queue === undefined
          ? undefined
          : createQueuedDelivery({
              queue: runtime.queue,
              // The same cached resolver sync delivery uses: a user looked up once is not asked
              // for again while the lookup is fresh.
              resolver: (connection) => runtime.tenants.of(connection).resolver,
              now: runtime.now,
            }),
    }),
    secrets: runtime.secrets,
    fetch: runtime.fetch,
    now: runtime.now,
    logger: runtime.logger,
    recordOutcome: runtime.recordOutcome,
  };
};
