import { ConfigError } from '../errors.ts';
import type { CallOptions, CiamApi, UserGroup } from './types.ts';

/** Which cached lookups `forget` drops. */
export type GroupRef = { id: string } | { displayName: string };

export interface GroupResolver {
  /**
   * The id of the user store's group named exactly `displayName` (case and spaces count), or
   * undefined when it has none.
   */
  byName(
    userStoreId: string,
    displayName: string,
    options?: CallOptions,
  ): Promise<string | undefined>;
  /** Whether the user store has a group with this id. */
  byId(userStoreId: string, groupId: string, options?: CallOptions): Promise<boolean>;
  /**
   * Drops cached lookups: of one group (by id: its id and every name found for it) or of the whole
   * user store, e.g. when CIAM answers FailedOperation.UserGroupNotFound for a cached id.
   */
  forget(userStoreId: string, group?: GroupRef): void;
}

export interface GroupResolverOptions {
  ciam: Pick<CiamApi, 'listUserGroups'>;
  now: () => number;
  /** How long a group found is trusted. Default 300; 0 caches nothing. */
  cacheTtlSeconds?: number;
  /**
   * How long "no such group" is trusted. Default 0: a group created in the console is seen at
   * once, at the price of one ListUserGroups call per lookup of a name CIAM does not have.
   */
  missTtlSeconds?: number;
  /** Groups per ListUserGroups page. Default 100 (CIAM documents no maximum). */
  pageSize?: number;
  /** Bound on cached lookups; the oldest entries go first. Default 10,000. */
  maxEntries?: number;
}

const DEFAULT_TTL_SECONDS = 300;
const DEFAULT_PAGE_SIZE = 100;

interface Entry {
  /** undefined: CIAM had no such group. */
  groupId: string | undefined;
  expiresAt: number;
}

const SEP = '\u0000';
const storePrefix = (userStoreId: string) => `${userStoreId}${SEP}`;
const nameKey = (userStoreId: string, name: string) =>
  `${storePrefix(userStoreId)}name${SEP}${name}`;
const idKey = (userStoreId: string, id: string) => `${storePrefix(userStoreId)}id${SEP}${id}`;

/**
 * Finds CIAM user groups by name or id with ListUserGroups. Its `condition` filter takes an id or
 * a name but its match mode is not documented, so every page of answers is checked for the exact
 * name or id. Each group the pages show is cached, so a lookup by name also answers the lookup by
 * its id, and the reverse, until the TTL runs out: CIAM allows 20 ListUserGroups calls a second.
 */
export const createGroupResolver = (options: GroupResolverOptions): GroupResolver => {
  const { ciam, now } = options;
  const ttlMs = (options.cacheTtlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
  const missTtlMs = (options.missTtlSeconds ?? 0) * 1000;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) {
    throw new ConfigError('Group resolver pageSize must be a positive integer');
  }
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, Entry>();

  const remember = (key: string, groupId: string | undefined) => {
    const lifetime = groupId === undefined ? missTtlMs : ttlMs;
    if (!(lifetime > 0)) return;
    cache.delete(key);
    if (cache.size >= maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, { groupId, expiresAt: now() + lifetime });
  };

  const rememberGroup = (userStoreId: string, group: UserGroup) => {
    remember(idKey(userStoreId, group.UserGroupId), group.UserGroupId);
    if (group.DisplayName !== undefined && group.DisplayName !== '') {
      remember(nameKey(userStoreId, group.DisplayName), group.UserGroupId);
    }
  };

  const cached = (key: string): Entry | undefined => {
    const entry = cache.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now()) return entry;
    cache.delete(key);
    return undefined;
  };

  /** Pages through the groups `condition` matches until one passes `exact`. */
  const search = async (
    userStoreId: string,
    value: string,
    exact: (group: UserGroup) => boolean,
    callOptions: CallOptions | undefined,
  ): Promise<UserGroup | undefined> => {
    // The first answer's total bounds the walk, so a store that keeps growing cannot keep it going.
    let pages = 1;
    for (let pageNumber = 1; pageNumber <= pages; pageNumber += 1) {
      const page = await ciam.listUserGroups(
        {
          UserStoreId: userStoreId,
          Pageable: { PageSize: pageSize, PageNumber: pageNumber },
          Filters: [{ Key: 'condition', Values: [value], Logic: true }],
        },
        callOptions,
      );
      const content = page.Content ?? [];
      for (const group of content) rememberGroup(userStoreId, group);
      const found = content.find(exact);
      if (found !== undefined) return found;
      if (content.length === 0) return undefined;
      if (pageNumber === 1) pages = Math.ceil((page.Total ?? 0) / pageSize);
    }
    return undefined;
  };

  return {
    async byName(userStoreId, displayName, callOptions) {
      const key = nameKey(userStoreId, displayName);
      const hit = cached(key);
      if (hit !== undefined) return hit.groupId;
      if (displayName === '') return undefined;
      const group = await search(
        userStoreId,
        displayName,
        (g) => g.DisplayName === displayName,
        callOptions,
      );
      if (group === undefined) remember(key, undefined);
      return group?.UserGroupId;
    },

    async byId(userStoreId, groupId, callOptions) {
      const key = idKey(userStoreId, groupId);
      const hit = cached(key);
      if (hit !== undefined) return hit.groupId !== undefined;
      if (groupId === '') return false;
      const group = await search(
        userStoreId,
        groupId,
        (g) => g.UserGroupId === groupId,
        callOptions,
      );
      if (group === undefined) remember(key, undefined);
      return group !== undefined;
    },

    forget(userStoreId, group) {
      if (group === undefined) {
        const prefix = storePrefix(userStoreId);
        for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
      } else if ('id' in group) {
        cache.delete(idKey(userStoreId, group.id));
        const prefix = nameKey(userStoreId, '');
        for (const [key, entry] of [...cache]) {
          if (key.startsWith(prefix) && entry.groupId === group.id) cache.delete(key);
        }
      } else {
        cache.delete(nameKey(userStoreId, group.displayName));
      }
    },
  };
};
