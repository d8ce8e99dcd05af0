// The CIAM targets of one runtime: each tenant's own client, credentials and caches.
import { createCiamClient } from '../ciam/client.ts';
import { createGroupResolver, type GroupResolver } from '../ciam/groups.ts';
import { createUserResolver, type UserResolver } from '../ciam/resolve.ts';
import type { CiamApi } from '../ciam/types.ts';
import { DEFAULT_TENANT_ID, tenantIdOf, tenantSettingsOf } from '../config/tenants.ts';
import type { AdapterConfig, Connection } from '../config/types.ts';
import type { HttpFetch } from '../fetch.ts';
import { createTencentCredentials } from '../secrets/tencent-credentials.ts';
import type { SecretSource } from '../secrets/types.ts';
import { createTencentClient, type TencentClient } from '../tencent/client.ts';
import type { AdapterEnv } from './env.ts';

/**
 * One CIAM target (a Tencent Cloud account): everything CIAM counts or caches per account is its
 * own. Its token buckets (CIAM's 20/s is per account and action) and signing keys live in its
 * client; its credentials are read from its own secret on first use and refetched alone after an
 * AuthFailure; its user and group lookups are cached apart from every other tenant's.
 */
export interface Tenant {
  /** `default` for the `ciam` block, else the key of `tenants`. */
  id: string;
  tencent: TencentClient;
  ciam: CiamApi;
  resolver: UserResolver;
  /** Finds CIAM groups by name for membership events. */
  groups: GroupResolver;
}

export interface Tenants {
  /** The tenant a connection writes to. */
  of(connection: Pick<Connection, 'tenant'>): Tenant;
  /**
   * The group lookups of a connection's tenant, for wiring at cold start: the tenant is built on
   * the first lookup, not when the connection is prepared.
   */
  groupsOf(connection: Pick<Connection, 'tenant'>): GroupResolver;
  /** A tenant by id; throws ConfigError for an id the config does not have. */
  byId(id: string): Tenant;
}

export interface TenantsDeps {
  config: AdapterConfig;
  secrets: SecretSource;
  fetch: HttpFetch;
  now: () => number;
  rateLimit: AdapterEnv['rateLimit'];
}

/**
 * Tenants are built on first use, not at cold start: a deployment of many tenants starts as fast
 * as one of a single tenant, and reads only the credentials of the tenants it is asked to write to.
 */
export const createTenants = (deps: TenantsDeps): Tenants => {
  const built = new Map<string, Tenant>();
  const byId = (id: string): Tenant => {
    const existing = built.get(id);
    if (existing !== undefined) return existing;
    const settings = tenantSettingsOf(deps.config, id);
    const tencent = createTencentClient({
      fetch: deps.fetch,
      now: deps.now,
      credentials: createTencentCredentials(deps.secrets, settings.credentials.name),
      endpoint: settings.endpoint,
      region: settings.region,
      timeoutMs: settings.timeoutMs,
      rateLimit: deps.rateLimit,
    });
    const ciam = createCiamClient(tencent);
    const tenant: Tenant = {
      id,
      tencent,
      ciam,
      resolver: createUserResolver({ ciam, now: deps.now }),
      groups: createGroupResolver({ ciam, now: deps.now }),
    };
    built.set(id, tenant);
    return tenant;
  };
  const of = (connection: Pick<Connection, 'tenant'>) => byId(tenantIdOf(connection));
  return {
    byId,
    of,
    groupsOf: (connection) => ({
      byName: (...args) => of(connection).groups.byName(...args),
      byId: (...args) => of(connection).groups.byId(...args),
      forget: (...args) => of(connection).groups.forget(...args),
    }),
  };
};

export { DEFAULT_TENANT_ID };
