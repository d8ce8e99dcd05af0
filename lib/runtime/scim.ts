// The SCIM function's composition: its chain's dependencies, built from the shared runtime.
import { type ApplyTarget, createKeyedLock } from '../ciam/apply.ts';
import { prepareEach } from '../config/prepare.ts';
import type { AdapterConfig } from '../config/types.ts';
import { applyTargetsOf } from '../delivery/delivery.ts';
import { compileMapping } from '../mapping/index.ts';
import { createScimGroupService, type ScimGroupService } from '../scim/groups.ts';
import type { ScimDeps } from '../scim/handler.ts';
import { checkNameAttributes } from '../scim/names.ts';
import type { ScimOptions } from '../scim/options.ts';
import { createScimService, type ScimConnection, type ScimService } from '../scim/service.ts';
import type { Runtime } from './index.ts';
import type { Tenant } from './tenants.ts';

type ScimMethod = (scim: ScimConnection, ...rest: never[]) => unknown;

/**
 * A service whose every method takes the SCIM connection first, made of one service per tenant:
 * each call goes to the service of the connection's tenant, built on its first call.
 */
const perTenant = <S extends Record<string, ScimMethod>>(
  runtime: Runtime,
  make: (tenant: Tenant) => S,
  methods: ReadonlyArray<keyof S & string>,
): S => {
  const services = new Map<string, S>();
  const serviceOf = (scim: ScimConnection): S => {
    const tenant = runtime.tenants.of(scim.connection);
    const service = services.get(tenant.id) ?? make(tenant);
    services.set(tenant.id, service);
    return service;
  };
  return Object.fromEntries(
    methods.map((name) => [
      name,
      (scim: ScimConnection, ...rest: never[]) =>
        (serviceOf(scim)[name] as (...args: unknown[]) => unknown)(scim, ...rest),
    ]),
  ) as S;
};

const SCIM_METHODS = ['list', 'get', 'patch', 'put', 'create', 'remove'] as const;

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
  // Per tenant, one lock for User and Group writes: a member change and a PATCH of the same user
  // never interleave their read and write.
  const locks = new Map<string, ReturnType<typeof createKeyedLock>>();
  const lockOf = (tenant: Tenant) => {
    const lock = locks.get(tenant.id) ?? createKeyedLock();
    locks.set(tenant.id, lock);
    return lock;
  };
  // Resolved once: the connections' guards and the group writes use the same targets.
  const targets = applyTargetsOf(runtime.config);
  return {
    connections: prepareScimConnections(runtime.config, targets),
    // Each tenant's own CIAM client and user lookups, picked by the connection of each request.
    service: perTenant<ScimService>(
      runtime,
      (tenant) =>
        createScimService({
          ciam: tenant.ciam,
          resolver: tenant.resolver,
          lock: lockOf(tenant),
          now: runtime.now,
        }),
      SCIM_METHODS,
    ),
    groups: perTenant<ScimGroupService>(
      runtime,
      (tenant) =>
        createScimGroupService({
          ciam: tenant.ciam,
          resolver: tenant.resolver,
          lock: lockOf(tenant),
          targets,
          now: runtime.now,
        }),
      SCIM_METHODS,
    ),
    secrets: runtime.secrets,
    logger: runtime.logger,
    recordOutcome: runtime.recordOutcome,
  };
};
