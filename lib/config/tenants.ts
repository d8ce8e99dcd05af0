import { ConfigError } from '../errors.ts';
import { DEFAULT_TENANT_ID } from './schema.ts';
import type { AdapterConfig, CiamSettings, Connection } from './types.ts';

export { DEFAULT_TENANT_ID };

/** The tenant a connection writes to: its `tenant`, or `default` (the `ciam` block). */
export const tenantIdOf = (connection: Pick<Connection, 'tenant'>): string =>
  connection.tenant ?? DEFAULT_TENANT_ID;

/** A tenant's CIAM settings; `default` is the `ciam` block. Unknown ids are refused at load. */
export const tenantSettingsOf = (config: AdapterConfig, tenantId: string): CiamSettings => {
  if (tenantId === DEFAULT_TENANT_ID) return config.ciam;
  const settings = config.tenants?.[tenantId];
  if (settings === undefined) throw new ConfigError(`No tenant "${tenantId}" is configured`);
  return settings;
};

/** Every tenant's id: `default` first, then the `tenants` keys in the config's order. */
export const tenantIds = (config: AdapterConfig): string[] => [
  DEFAULT_TENANT_ID,
  ...Object.keys(config.tenants ?? {}),
];
