import type { Connection, SourceApiConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { SecretRef } from '../secrets/types.ts';

/** The event type of a change made from a listed user: every attribute, as of `updated_at`. */
export const SNAPSHOT_EVENT_TYPE = 'user.snapshot';

/**
 * Deterministic per user and update time: listing the same unchanged user twice (a resumed or
 * repeated run) makes the same change, which the field clocks then find applied already.
 */
export const snapshotEventId = (externalId: string, updatedAt: string): string =>
  `snapshot:${externalId}:${updatedAt}`;

/** A user with no update time sorts before every real event: a snapshot never beats a webhook. */
export const UNKNOWN_TIME = new Date(0).toISOString();

export const apiConfigOf = (connection: Connection): SourceApiConfig => {
  const api = connection.reconcile?.api;
  if (api === undefined) {
    throw new ConfigError(`Connection "${connection.id}" has no reconcile.api`);
  }
  return api;
};

/** `baseUrl` without a trailing slash, so paths append cleanly. */
export const baseUrlOf = (api: SourceApiConfig, fallback: string | undefined): string => {
  const base = api.baseUrl ?? fallback;
  if (base === undefined) {
    throw new ConfigError(`reconcile.api.baseUrl is required for ${api.kind}`);
  }
  return base.replace(/\/+$/, '');
};

/** What every lister starts from: its API config, origin, page size and credential. */
export interface ListerSettings {
  api: SourceApiConfig;
  base: string;
  pageSize: number;
  credentials: SecretRef;
}

/**
 * The config a lister needs, checked once when it is made (the loader checks the same at cold
 * start; this guards a lister made for a connection the loader did not see).
 */
export const listerSettings = (
  connection: Connection,
  defaults: { baseUrl: string | undefined; maxPageSize: number; credentials?: SecretRef },
): ListerSettings => {
  const api = apiConfigOf(connection);
  const credentials = api.credentials ?? defaults.credentials;
  if (credentials === undefined) {
    throw new ConfigError(
      `Connection "${connection.id}": reconcile.api.credentials is required for ${api.kind}`,
    );
  }
  return {
    api,
    base: baseUrlOf(api, defaults.baseUrl),
    pageSize: Math.min(api.pageSize ?? defaults.maxPageSize, defaults.maxPageSize),
    credentials,
  };
};
