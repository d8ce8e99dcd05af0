import type { UserChange } from '../change.ts';
import { AdapterError } from '../errors.ts';
import { normalisePhone, type PhoneOptions, toPhoneRegion } from './phone.ts';
import type { CallOptions, CiamApi, CiamUser } from './types.ts';
import type { PhoneFormat } from './update-user-fields.ts';

/** How the CIAM UserId is found for a change; `cacheTtlSeconds` bounds how long a lookup is kept. */
export type ResolveStrategy =
  | { by: 'userId'; cacheTtlSeconds?: number }
  | { by: 'email'; cacheTtlSeconds?: number }
  | { by: 'phone'; cacheTtlSeconds?: number }
  | { by: 'indexedAttribute'; index: 1 | 2 | 3 | 4 | 5; cacheTtlSeconds?: number };

/**
 * What resolution reads of a connection. `mapping` supplies the phone region and format, so a
 * lookup by phone uses the value the mapping writes into PhoneNumber.
 */
export interface ResolvableConnection {
  id: string;
  userStoreId: string;
  resolve: ResolveStrategy;
  mapping: PhoneMapping;
}

interface PhoneMapping {
  defaultPhoneRegion?: string | undefined;
  phoneFormat?: PhoneFormat | undefined;
}

export interface UserResolver {
  /** The CIAM UserId the change applies to. USER_NOT_FOUND / USER_AMBIGUOUS are permanent. */
  resolve(
    connection: ResolvableConnection,
    change: Pick<UserChange, 'subject'>,
    options?: CallOptions,
  ): Promise<string>;
  /** Drop a cached lookup, e.g. when CIAM says the cached user no longer exists. */
  forget(connection: Omit<ResolvableConnection, 'id'>, change: Pick<UserChange, 'subject'>): void;
}

export interface UserResolverOptions {
  ciam: Pick<CiamApi, 'listUserByProperty' | 'describeUser'>;
  now: () => number;
  /** Bound on cached lookups; the oldest entries go first. */
  maxEntries?: number;
}

const DEFAULT_TTL_SECONDS = 300;

interface LookupKey {
  cacheKey: string;
  value: string;
}

const phoneOptions = ({ mapping }: { mapping: PhoneMapping }): PhoneOptions => {
  const options: PhoneOptions = {};
  // An unsupported region never gets this far: compileMapping refuses it at cold start.
  const region =
    mapping.defaultPhoneRegion === undefined
      ? undefined
      : toPhoneRegion(mapping.defaultPhoneRegion);
  if (region !== undefined) options.defaultRegion = region;
  if (mapping.phoneFormat !== undefined) options.format = mapping.phoneFormat;
  return options;
};

/** The subject's phone as the mapping writes it, so `+65 8123 4567` finds `+6581234567`. */
const lookupPhone = (connection: { mapping: PhoneMapping }, phone: string | undefined) => {
  const result = normalisePhone(phone, phoneOptions(connection));
  if (!result.ok) {
    // The same number would fail the mapping too; no lookup can find a user by it.
    throw new AdapterError('USER_NOT_FOUND', 'The event carries no usable phone number', {
      details: { resolveBy: 'phone', reason: result.reason },
    });
  }
  return result.value;
};

/**
 * What a change is looked up by under the connection's strategy, normalised as the lookup sends it
 * (an email lowercased, a phone as the mapping writes it), and the lookup's label. Reconciliation
 * indexes a CIAM snapshot by the same value. Throws USER_NOT_FOUND when the change lacks it.
 */
export const resolutionValue = (
  connection: Omit<ResolvableConnection, 'id' | 'userStoreId'>,
  change: Pick<UserChange, 'subject'>,
): { label: string; value: string } => {
  const strategy = connection.resolve;
  const subject = change.subject;
  let value: string | undefined;
  let label: string = strategy.by;
  switch (strategy.by) {
    case 'userId':
      value = subject.ciamUserId;
      break;
    case 'email':
      value = subject.email?.trim().toLowerCase();
      break;
    case 'phone':
      value = lookupPhone(connection, subject.phone);
      break;
    case 'indexedAttribute':
      value = subject.externalId;
      label = `indexedAttribute${strategy.index}`;
      break;
  }
  if (value === undefined || value === '') {
    // The event does not carry what this connection resolves users by: nothing to look up, and
    // retrying cannot help.
    throw new AdapterError('USER_NOT_FOUND', `The event carries no ${label} to find the user by`, {
      details: { resolveBy: label },
    });
  }
  return { label, value };
};

const lookupKey = (
  connection: Omit<ResolvableConnection, 'id'>,
  change: Pick<UserChange, 'subject'>,
): LookupKey => {
  const { label, value } = resolutionValue(connection, change);
  return { cacheKey: `${connection.userStoreId}\u0000${label}\u0000${value}`, value };
};

const pickOne = (users: readonly CiamUser[], total: number, label: string): string => {
  if (total > 1 || users.length > 1) {
    throw new AdapterError('USER_AMBIGUOUS', `Several CIAM users match by ${label}`, {
      details: { resolveBy: label, matches: Math.max(total, users.length) },
    });
  }
  const userId = users[0]?.UserId;
  if (userId === undefined) {
    throw new AdapterError('USER_NOT_FOUND', `No CIAM user matches by ${label}`, {
      details: { resolveBy: label },
    });
  }
  return userId;
};

/**
 * Finds CIAM users by the connection's strategy. Hits are cached with a TTL to spare calls
 * against CIAM's 20 requests/second; misses are not cached, since the user may appear soon.
 */
export const createUserResolver = (options: UserResolverOptions): UserResolver => {
  const { ciam, now } = options;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { userId: string; expiresAt: number }>();

  const remember = (key: string, userId: string, ttlSeconds: number) => {
    if (ttlSeconds <= 0) return;
    cache.delete(key);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, { userId, expiresAt: now() + ttlSeconds * 1000 });
  };

  return {
    async resolve(connection, change, callOptions = {}) {
      const strategy = connection.resolve;
      const { cacheKey, value } = lookupKey(connection, change);
      if (strategy.by === 'userId') return value;

      const hit = cache.get(cacheKey);
      if (hit !== undefined && hit.expiresAt > now()) return hit.userId;

      let userId: string;
      if (strategy.by === 'indexedAttribute') {
        const label = `indexedAttribute${strategy.index}`;
        const page = await ciam.describeUser(
          {
            UserStoreId: connection.userStoreId,
            // Two is enough to tell "exactly one" from "ambiguous".
            Pageable: { PageSize: 2, PageNumber: 1 },
            Filters: [{ PropertyKey: label, PropertyValue: value, Logic: true, OperateLogic: '=' }],
          },
          callOptions,
        );
        userId = pickOne(page.Content ?? [], page.Total ?? 0, label);
      } else {
        const list = await ciam.listUserByProperty(
          {
            UserStoreId: connection.userStoreId,
            PropertyCode: strategy.by === 'email' ? 'email' : 'phoneNumber',
            PropertyValue: value,
          },
          callOptions,
        );
        const users = list.Users ?? [];
        userId = pickOne(users, users.length, strategy.by);
      }
      remember(cacheKey, userId, strategy.cacheTtlSeconds ?? DEFAULT_TTL_SECONDS);
      return userId;
    },

    forget(connection, change) {
      try {
        cache.delete(lookupKey(connection, change).cacheKey);
      } catch {
        // Nothing was cached for a change without a lookup value.
      }
    },
  };
};
