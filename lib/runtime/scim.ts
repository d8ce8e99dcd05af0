// The SCIM function's composition: its chain's dependencies, built from the shared runtime.
import { createKeyedLock } from '../ciam/apply.ts';
import { prepareEach } from '../config/prepare.ts';
import type { AdapterConfig } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { compileMapping } from '../mapping/index.ts';
import type { ScimDeps } from '../scim/handler.ts';
import type { ScimOptions } from '../scim/options.ts';
import { createScimService, type ScimConnection } from '../scim/service.ts';
import type { Runtime } from './index.ts';

/**
 * Cold-start work for every `scim` connection: options read, mapping compiled, and the field
 * clocks of its user store, which SCIM writes share with every other connection of the store.
 */
export const prepareScimConnections = (
  config: AdapterConfig,
): ReadonlyMap<string, ScimConnection> => {
  const targets = applyTargetsOf(config);
  return prepareEach(config.connections, (connection) =>
    connection.source === 'scim'
      ? {
          connection,
          // Checked against scimOptionsSchema when the config was loaded.
          options: connection.options as ScimOptions,
          mapper: compileMapping(connection),
          guard: targets.get(connection.id)?.guard,
        }
      : undefined,
  );
};

/** The SCIM function's dependencies, from the shared runtime. */
export const scimDeps = (runtime: Runtime): ScimDeps => ({
  connections: prepareScimConnections(runtime.config),
  service: createScimService({
    ciam: runtime.ciam,
    resolver: runtime.resolver,
    lock: createKeyedLock(),
    now: runtime.now,
  }),
  secrets: runtime.secrets,
  logger: runtime.logger,
  recordOutcome: runtime.recordOutcome,
});
