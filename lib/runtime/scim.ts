// The SCIM function's composition: its chain's dependencies, built from the shared runtime.
import { type ApplyTarget, createKeyedLock } from '../ciam/apply.ts';
import { prepareEach } from '../config/prepare.ts';
import type { AdapterConfig } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { compileMapping } from '../mapping/index.ts';
import { createScimGroupService } from '../scim/groups.ts';
import type { ScimDeps } from '../scim/handler.ts';
import { checkNameAttributes } from '../scim/names.ts';
import type { ScimOptions } from '../scim/options.ts';
import { createScimService, type ScimConnection } from '../scim/service.ts';
import type { Runtime } from './index.ts';

/**
 * Cold-start work for every `scim` connection: options read (its name attributes checked against
 * where the stale-event guard keeps its clocks), mapping compiled, and the field clocks of its
 * user store, which SCIM writes share with every other connection of the store.
 */
export const prepareScimConnections = (
  config: AdapterConfig,
  targets: ReadonlyMap<string, ApplyTarget> = applyTargetsOf(config),
): ReadonlyMap<string, ScimConnection> =>
  prepareEach(config.connections, (connection) => {
    if (connection.source !== 'scim') return undefined;
    // Checked against scimOptionsSchema when the config was loaded.
    const options = connection.options as ScimOptions;
    const guard = targets.get(connection.id)?.guard;
    checkNameAttributes(options, guard);
    return { connection, options, mapper: compileMapping(connection), guard };
  });

/** The SCIM function's dependencies, from the shared runtime. */
export const scimDeps = (runtime: Runtime): ScimDeps => {
  // One lock for User and Group writes: a member change and a PATCH of the same user never
  // interleave their read and write.
  const lock = createKeyedLock();
  // Resolved once: the connections' guards and the group writes use the same targets.
  const targets = applyTargetsOf(runtime.config);
  return {
    connections: prepareScimConnections(runtime.config, targets),
    service: createScimService({
      ciam: runtime.ciam,
      resolver: runtime.resolver,
      lock,
      now: runtime.now,
    }),
    groups: createScimGroupService({
      ciam: runtime.ciam,
      resolver: runtime.resolver,
      lock,
      targets,
      now: runtime.now,
    }),
    secrets: runtime.secrets,
    logger: runtime.logger,
    recordOutcome: runtime.recordOutcome,
  };
};
