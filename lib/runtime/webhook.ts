// The webhook function's composition: its chain's dependencies, built from the shared runtime.
import { createKeyedLock } from '../ciam/apply.ts';
import { createGroupResolver } from '../ciam/groups.ts';
import { applyTargetsOf, byDeliveryMode, createSyncDelivery } from '../delivery/delivery.ts';
import { createQueuedDelivery } from '../queue/producer.ts';
import { SOURCES } from '../sources/registry.ts';
import type { WebhookDeps } from '../webhook/handler.ts';
import { prepareConnections } from '../webhook/prepare.ts';
import type { Runtime } from './index.ts';

/** The webhook function's dependencies, from the shared runtime. */
export const webhookDeps = (runtime: Runtime): WebhookDeps => ({
  connections: prepareConnections(runtime.config, SOURCES, {
    queued: runtime.queue !== undefined,
    // One cache for every connection: CIAM allows 20 ListUserGroups calls a second.
    groups: createGroupResolver({ ciam: runtime.ciam, now: runtime.now }),
  }),
  deliver: byDeliveryMode({
    sync: createSyncDelivery({
      ciam: runtime.ciam,
      resolver: runtime.resolver,
      lock: createKeyedLock(),
      targets: applyTargetsOf(runtime.config),
    }),
    queued:
      runtime.queue === undefined
        ? undefined
        : createQueuedDelivery({
            queue: runtime.queue,
            // The same cached resolver sync delivery uses: a user looked up once is not asked
            // for again while the lookup is fresh.
            resolver: runtime.resolver,
            now: runtime.now,
          }),
  }),
  secrets: runtime.secrets,
  fetch: runtime.fetch,
  now: runtime.now,
  logger: runtime.logger,
  recordOutcome: runtime.recordOutcome,
});
