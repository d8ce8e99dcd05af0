// The queue function's composition: its chain's dependencies, built from the shared runtime.
import { applyTargetsOf } from '../delivery/delivery.ts';
import { ConfigError } from '../errors.ts';
import type { QueueDeps } from '../queue/handler.ts';
import type { Runtime } from './index.ts';

/**
 * The queue consumer's dependencies, from the shared runtime. Only what applying needs: no source
 * is prepared (no schemas, no source secrets), since messages already carry the mapped draft.
 */
export const queueDeps = (runtime: Runtime): QueueDeps => {
  if (runtime.queue === undefined || runtime.deadLetterQueue === undefined) {
    throw new ConfigError('The queue consumer needs QUEUE_URL and DLQ_URL', {
      details: {
        missing: [
          ...(runtime.queue === undefined ? ['QUEUE_URL'] : []),
          ...(runtime.deadLetterQueue === undefined ? ['DLQ_URL'] : []),
        ],
      },
    });
  }
  return {
    connections: applyTargetsOf(runtime.config),
    // Each connection's tenant: its own client (and rate limit) and cached lookups.
    apply: (connection) => {
      const tenant = runtime.tenants.of(connection);
      return { ciam: tenant.ciam, resolver: tenant.resolver };
    },
    queue: runtime.queue,
    deadLetterQueue: runtime.deadLetterQueue,
    settings: runtime.queueSettings,
    now: runtime.now,
    random: Math.random,
    logger: runtime.logger,
    recordOutcome: runtime.recordOutcome,
  };
};
