import {
  type ApplyDeps,
  type ApplyResult,
  type ApplyTarget,
  applyUpdate,
  type PlannedUpdate,
} from '../ciam/apply.ts';
import {
  CLOCKED_FIELDS,
  type ClockField,
  connectionTag,
  customTag,
  MAX_CLOCKS_CHARS,
  maxEncodedLength,
} from '../ciam/field-clocks.ts';
import {
  DEFAULT_CLOCKS_ATTRIBUTE,
  type LegacyMark,
  legacyMarkAttribute,
  type StaleGuard,
} from '../ciam/stale-guard.ts';
import type { CallOptions } from '../ciam/types.ts';
import { tenantIdOf } from '../config/tenants.ts';
import type { AdapterConfig, Connection } from '../config/types.ts';
import { ConfigError } from '../errors.ts';

/** Stored in the queue, to be applied in order by the consumer. */
export interface QueuedUpdate {
  status: 'queued';
  eventId: string;
  messageId: string;
}

export type DeliveryResult = ApplyResult | QueuedUpdate;

export interface DeliveryReport {
  results: DeliveryResult[];
}

export interface DeliverOptions extends CallOptions {
  /** The request id that accepted the changes, carried into queued messages. */
  traceId?: string;
}

/**
 * The seam between ingestion and delivery: `sync` applies inside the request; `queued` hands the
 * same planned updates to SQS FIFO and answers 202.
 */
export type Deliver = (
  connection: Connection,
  updates: readonly PlannedUpdate[],
  options: DeliverOptions,
) => Promise<DeliveryReport>;

/** A connection as apply needs it, and the tenant it writes to (absent: `default`). */
export type TenantApplyTarget = ApplyTarget & Pick<Connection, 'tenant'>;

/** Custom attributes a store's clocks must have room for, beyond its standard fields. */
const CUSTOM_FIELDS_RESERVED = 4;

/** The clocked fields a connection's mapping may write: all but those it omits. */
const mappedFields = (connection: Connection) => {
  const omitted = new Set<string>(connection.mapping.omit ?? []);
  return {
    standard: CLOCKED_FIELDS.filter((field) => !omitted.has(field)),
    custom: !omitted.has('CustomizationAttributes'),
  };
};

/**
 * Every connection as apply needs it, with its stale-event guard resolved once at cold start: its
 * user store's clocks attribute and field authority (as clock tags), and the earlier-version marks
 * of the store's connections. Fails the cold start when a store's clocks could outgrow their
 * attribute.
 * A user store is one of a tenant's (Tencent Cloud account's): two tenants' stores of the same id
 * are different stores, so the connections sharing clocks are those of one (tenant, store). The
 * `userStores` settings are keyed by store id alone and apply to that id in every tenant.
 */
export const applyTargetsOf = (config: AdapterConfig): ReadonlyMap<string, TenantApplyTarget> => {
  const byStore = new Map<string, Connection[]>();
  for (const connection of config.connections) {
    const key = `${tenantIdOf(connection)}\u0000${connection.userStoreId}`;
    byStore.set(key, [...(byStore.get(key) ?? []), connection]);
  }
  const targets = new Map<string, TenantApplyTarget>();
  for (const connections of byStore.values()) {
    const storeId = (connections[0] as Connection).userStoreId;
    const settings = config.userStores?.[storeId] ?? {};
    const guarded = connections.filter((connection) => connection.staleGuard?.enabled !== false);
    const standard = new Set(guarded.flatMap((connection) => mappedFields(connection).standard));
    const longest = maxEncodedLength(standard.size, CUSTOM_FIELDS_RESERVED);
    if (guarded.length > 0 && longest > MAX_CLOCKS_CHARS) {
      throw new ConfigError(
        `User store "${storeId}": its field clocks could need ${longest} characters, more than ${MAX_CLOCKS_CHARS}`,
      );
    }
    const ranks = new Map<ClockField, string[]>();
    for (const [field, ids] of Object.entries(settings.authority ?? {})) {
      const clockField = field.startsWith('custom:') ? `~${customTag(field.slice(7))}` : field;
      ranks.set(clockField, ids.map(connectionTag));
    }
    const legacy: LegacyMark[] = guarded.map((connection) => {
      const { standard: fields, custom } = mappedFields(connection);
      const covered = new Set<string>(fields);
      return {
        attribute: connection.staleGuard?.attribute ?? legacyMarkAttribute(connection.id),
        connection: connectionTag(connection.id),
        covers: (field) => (field.startsWith('~') ? custom : covered.has(field)),
      };
    });
    for (const connection of connections) {
      const guard: StaleGuard | undefined =
        connection.staleGuard?.enabled === false
          ? undefined
          : {
              attribute: settings.clockAttribute ?? DEFAULT_CLOCKS_ATTRIBUTE,
              type: connection.mapping.customAttributeType ?? 'STRING',
              connection: connectionTag(connection.id),
              authorityOf: (field) => ranks.get(field),
              legacy,
            };
      targets.set(connection.id, { ...connection, guard });
    }
  }
  return targets;
};

/**
 * What applying a connection's changes needs: the same for every connection, or (several tenants)
 * each connection's tenant's client, user lookups and lock.
 */
export type ApplyDepsSource = ApplyDeps | { applyOf: (connection: Connection) => ApplyDeps };

export type SyncDeliveryDeps = ApplyDepsSource & { targets: ReadonlyMap<string, ApplyTarget> };

const applyDepsOf = (deps: ApplyDepsSource, connection: Connection): ApplyDeps =>
  'applyOf' in deps ? deps.applyOf(connection) : deps;

/**
 * Applies changes one after another, in the order the sender gave them: a batch may change the
 * same user twice, and the later change must win. The first failure stops the batch; what was
 * applied stays applied, and a redelivery converges because the stale-event guard skips what was
 * applied.
 * Concurrent requests for one user wait for each other inside this instance (the keyed lock in
 * `deps`); only queued delivery orders them across instances.
 */
export const createSyncDelivery = (deps: SyncDeliveryDeps): Deliver => {
  return async (connection, updates, options) => {
    const target = deps.targets.get(connection.id);
    // Targets are made from the same config as the connections; a miss is a wiring bug.
    if (target === undefined) throw new Error(`No apply target for ${connection.id}`);
    const apply = applyDepsOf(deps, connection);
    const call = options.signal === undefined ? {} : { signal: options.signal };
    const results: DeliveryResult[] = [];
    for (const planned of updates) {
      results.push(await applyUpdate(apply, target, planned, call));
    }
    return { results };
  };
};

/** Each connection's own delivery: one function can serve sync and queued connections alike. */
export const byDeliveryMode =
  (modes: { sync: Deliver; queued?: Deliver | undefined }): Deliver =>
  (connection, updates, options) => {
    const deliver = connection.delivery === 'queued' ? modes.queued : modes.sync;
    if (deliver === undefined) {
      // prepareConnections refuses such a configuration at cold start; this guards a wiring bug.
      throw new Error(`No ${connection.delivery} delivery is configured`);
    }
    return deliver(connection, updates, options);
  };
