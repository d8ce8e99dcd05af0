// SCIM Groups of one connection, as a view over the CIAM user groups of its user store. Groups
// themselves are made, renamed and deleted in the CIAM console; SCIM reads them and changes their
// members, each member change one applyUpdate of that user, clocked like any other change.
import { randomUUID } from 'node:crypto';
import { type ApplyTarget, applyUpdate, type KeyedLock } from '../ciam/apply.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import type { CallOptions, CiamApi, CiamUser, UserGroup } from '../ciam/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { readUser } from './ciam-users.ts';
import {
  DEFAULT_MAX_GROUP_MEMBERS,
  type GroupPatchPlan,
  type GroupQuery,
  groupQueryOf,
  type MembershipChange,
  membershipChanges,
  namedMembers,
  needsCurrentMembers,
  parseGroupPatch,
  parseGroupPost,
  parseGroupPut,
  renderGroup,
} from './group.ts';
import { ciamPageOf, hasFilter, type ListQuery, listResponse, pagingOf, windowOf } from './list.ts';
import type { ScimObject } from './patch.ts';
import type { ScimConnection } from './service.ts';

export interface ScimGroupServiceDeps {
  ciam: Pick<CiamApi, 'listUserGroups' | 'listGroupMembers' | 'describeUserById' | 'updateUser'>;
  resolver: UserResolver;
  /** The same lock the User operations take, so writes to one user never interleave. */
  lock: KeyedLock;
  /** Each connection's apply target, its stale-event guard resolved at cold start. */
  targets: ReadonlyMap<string, ApplyTarget>;
  now: () => number;
}

/** CIAM pages of groups and of members: CIAM's largest user page. */
const CIAM_PAGE_SIZE = 100;

export interface GroupReadOptions extends CallOptions {
  /** Read the members too (one DescribeUser per 100 of them). */
  members: boolean;
}

const noSuchGroup = () => new AdapterError('SCIM_ENDPOINT_NOT_FOUND', 'No such group');

/** Pages through the groups a `condition` filter matches until one passes `exact`. */
const searchGroup = async (
  ciam: ScimGroupServiceDeps['ciam'],
  userStoreId: string,
  value: string,
  exact: (group: UserGroup) => boolean,
  options: CallOptions,
): Promise<UserGroup | undefined> => {
  let pages = 1;
  for (let pageNumber = 1; pageNumber <= pages; pageNumber += 1) {
    const page = await ciam.listUserGroups(
      {
        UserStoreId: userStoreId,
        Pageable: { PageSize: CIAM_PAGE_SIZE, PageNumber: pageNumber },
        // `condition` matches ids and names in a way CIAM does not document: answers are checked.
        Filters: [{ Key: 'condition', Values: [value], Logic: true }],
      },
      options,
    );
    const content = page.Content ?? [];
    const found = content.find(exact);
    if (found !== undefined || content.length === 0) return found;
    if (pageNumber === 1) pages = Math.ceil((page.Total ?? 0) / CIAM_PAGE_SIZE);
  }
  return undefined;
};

const groupById = (deps: ScimGroupServiceDeps, scim: ScimConnection, id: string, o: CallOptions) =>
  id === ''
    ? Promise.resolve(undefined)
    : searchGroup(deps.ciam, scim.connection.userStoreId, id, (g) => g.UserGroupId === id, o);

/** Every member of a group, page by page; the first page's total bounds the walk. */
const readMembers = async (
  deps: ScimGroupServiceDeps,
  userStoreId: string,
  groupId: string,
  options: CallOptions,
): Promise<CiamUser[]> => {
  const members: CiamUser[] = [];
  let pages = 1;
  for (let pageNumber = 1; pageNumber <= pages; pageNumber += 1) {
    const page = await deps.ciam.listGroupMembers(
      {
        UserStoreId: userStoreId,
        UserGroupId: groupId,
        Pageable: { PageSize: CIAM_PAGE_SIZE, PageNumber: pageNumber },
      },
      options,
    );
    const content = page.Content ?? [];
    members.push(...content);
    if (content.length === 0) break;
    if (pageNumber === 1) pages = Math.ceil((page.Total ?? 0) / CIAM_PAGE_SIZE);
  }
  return members;
};

const render = async (
  deps: ScimGroupServiceDeps,
  scim: ScimConnection,
  group: UserGroup,
  base: string,
  options: GroupReadOptions,
): Promise<ScimObject> => {
  const { members, ...call } = options;
  const users = members
    ? await readMembers(deps, scim.connection.userStoreId, group.UserGroupId, call)
    : undefined;
  return renderGroup(group, base, users);
};

const filteredGroups = async (
  deps: ScimGroupServiceDeps,
  scim: ScimConnection,
  query: GroupQuery,
  options: CallOptions,
): Promise<UserGroup[]> => {
  const store = scim.connection.userStoreId;
  switch (query.by) {
    case 'id': {
      const group = await groupById(deps, scim, query.value, options);
      return group === undefined ? [] : [group];
    }
    case 'displayName': {
      // CIAM group names are unique per store and compared as stored (case and spaces count).
      const name = query.value;
      const group = await searchGroup(
        deps.ciam,
        store,
        name,
        (g) => g.DisplayName === name,
        options,
      );
      return group === undefined ? [] : [group];
    }
    case 'externalId':
      // CIAM groups have no field to keep an externalId in, so no group has one.
      return [];
  }
};

const listGroups = async (
  deps: ScimGroupServiceDeps,
  scim: ScimConnection,
  query: ListQuery,
  base: string,
  options: GroupReadOptions,
) => {
  const paging = pagingOf(query, scim.options.maxPageSize);
  const { members: _members, ...call } = options;
  let groups: UserGroup[];
  let total: number;
  if (hasFilter(query)) {
    const found = await filteredGroups(deps, scim, groupQueryOf(query.filter), call);
    groups = windowOf(paging, found);
    total = found.length;
  } else if (paging.count === 0) {
    const page = await deps.ciam.listUserGroups(
      { UserStoreId: scim.connection.userStoreId, Pageable: { PageSize: 1, PageNumber: 1 } },
      call,
    );
    groups = [];
    total = page.Total ?? 0;
  } else {
    const { pageSize, pageNumber, skip } = ciamPageOf(paging);
    const page = await deps.ciam.listUserGroups(
      {
        UserStoreId: scim.connection.userStoreId,
        Pageable: { PageSize: pageSize, PageNumber: pageNumber },
      },
      call,
    );
    const content = page.Content ?? [];
    groups = content.slice(skip, skip + paging.count);
    total = page.Total ?? content.length;
  }
  const resources: ScimObject[] = [];
  for (const group of groups) resources.push(await render(deps, scim, group, base, options));
  return listResponse(resources, total, paging.startIndex);
};

/**
 * Receive time as the change's clock, never earlier than the last one this instance gave: two
 * requests for one member inside a millisecond still apply in the order they came.
 */
const receiveClock = (now: () => number) => {
  let last = 0;
  return () => {
    last = Math.max(now(), last + 1);
    return new Date(last).toISOString();
  };
};

/**
 * Applies a PATCH's or PUT's member steps to one group: the member count checked, the group found,
 * its current members read when a replace needs them, every user to add checked to exist, and only
 * then the writes, one user after another in order.
 */
const changeMembers = async (
  deps: ScimGroupServiceDeps,
  clock: () => string,
  scim: ScimConnection,
  groupId: string,
  plan: GroupPatchPlan,
  options: CallOptions,
): Promise<UserGroup> => {
  const max = scim.options.maxGroupMembersPerRequest ?? DEFAULT_MAX_GROUP_MEMBERS;
  const named = namedMembers(plan.steps).length;
  if (named > max) {
    throw new AdapterError(
      'SCIM_INVALID_VALUE',
      `The request names ${named} members; this connection takes at most ${max} per request`,
    );
  }
  const group = await groupById(deps, scim, groupId, options);
  if (group === undefined) throw noSuchGroup();
  if (plan.steps.length === 0) return group;
  const store = scim.connection.userStoreId;
  const current = needsCurrentMembers(plan.steps)
    ? new Set(
        (await readMembers(deps, store, group.UserGroupId, options)).flatMap((u) =>
          u.UserId === undefined ? [] : [u.UserId],
        ),
      )
    : undefined;
  const changes = membershipChanges(plan.steps, current);
  // Every user to add must exist before anything is written: a refused request changes nothing.
  for (const { userId, member } of changes) {
    if (!member) continue;
    try {
      await readUser(deps.ciam, store, userId, options);
    } catch (error) {
      if (isAdapterError(error) && error.code === 'USER_NOT_FOUND') {
        throw new AdapterError('SCIM_INVALID_VALUE', `No user has the id ${userId}`);
      }
      throw error;
    }
  }
  await writeMemberships(deps, clock, scim, group.UserGroupId, changes, options);
  return group;
};

const writeMemberships = async (
  deps: ScimGroupServiceDeps,
  clock: () => string,
  scim: ScimConnection,
  groupId: string,
  changes: readonly MembershipChange[],
  options: CallOptions,
) => {
  const connectionTarget = deps.targets.get(scim.connection.id);
  // Targets are made from the same config as the connections; a miss is a wiring bug.
  if (connectionTarget === undefined) {
    throw new AdapterError('INTERNAL', `No apply target for ${scim.connection.id}`);
  }
  // The member is named by its CIAM UserId, whatever the connection resolves users by.
  const target: ApplyTarget = { ...connectionTarget, resolve: { by: 'userId' } };
  const apply = { ciam: deps.ciam, resolver: deps.resolver, lock: deps.lock };
  for (const { userId, member } of changes) {
    try {
      await applyUpdate(
        apply,
        target,
        {
          change: {
            eventId: randomUUID(),
            eventType: member ? 'scim.group.member_added' : 'scim.group.member_removed',
            occurredAt: clock(),
            subject: { ciamUserId: userId },
          },
          draft: { UserStoreId: scim.connection.userStoreId },
          memberships: [{ groupId, member }],
        },
        options,
      );
    } catch (error) {
      // A user that no longer exists is in no group: its removal is already done.
      if (member || !isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
    }
  }
};

export const createScimGroupService = (deps: ScimGroupServiceDeps) => {
  const clock = receiveClock(deps.now);
  return {
    list: (scim: ScimConnection, query: ListQuery, base: string, options: GroupReadOptions) =>
      listGroups(deps, scim, query, base, options),

    get: async (scim: ScimConnection, id: string, base: string, options: GroupReadOptions) => {
      const { members: _members, ...call } = options;
      const group = await groupById(deps, scim, id, call);
      if (group === undefined) throw noSuchGroup();
      return render(deps, scim, group, base, options);
    },

    /** PATCH: the member changes written; displayName and externalId are read, not kept. */
    patch: async (scim: ScimConnection, id: string, body: unknown, options: CallOptions = {}) => {
      await changeMembers(deps, clock, scim, id, parseGroupPatch(body), options);
    },

    /** PUT: the full member list, applied as the difference from the current members. */
    put: async (
      scim: ScimConnection,
      id: string,
      body: unknown,
      base: string,
      options: GroupReadOptions,
    ) => {
      const { members, ...call } = options;
      const group = await changeMembers(deps, clock, scim, id, parseGroupPut(body, id), call);
      return render(deps, scim, group, base, { ...call, members });
    },

    /**
     * POST: CIAM groups are created in the CIAM console, so a POST links to the one with that
     * displayName (201 with its id, its `members` added) or, with `postGroups: "refuse"`, answers
     * that it exists (409); no such group is 404 either way.
     */
    create: async (
      scim: ScimConnection,
      body: unknown,
      base: string,
      options: GroupReadOptions,
    ) => {
      const { members, ...call } = options;
      const { displayName, plan } = parseGroupPost(body);
      const found = await searchGroup(
        deps.ciam,
        scim.connection.userStoreId,
        displayName,
        (group) => group.DisplayName === displayName,
        call,
      );
      if (found === undefined) {
        throw new AdapterError(
          'SCIM_ENDPOINT_NOT_FOUND',
          `No CIAM group is named "${displayName}"; create it in the CIAM console first`,
        );
      }
      if (scim.options.postGroups === 'refuse') {
        throw new AdapterError('SCIM_UNIQUENESS', `The group "${displayName}" already exists`);
      }
      const group = await changeMembers(deps, clock, scim, found.UserGroupId, plan, call);
      return render(deps, scim, group, base, { ...call, members });
    },

    /**
     * DELETE: the CIAM group stays (it is managed in the console). `deleteGroups: "ignore"` (the
     * default) changes nothing; `"removeMembers"` removes every membership it holds, one user after
     * another, at CIAM's rate.
     */
    remove: async (scim: ScimConnection, id: string, options: CallOptions = {}) => {
      const group = await groupById(deps, scim, id, options);
      if (group === undefined) throw noSuchGroup();
      if (scim.options.deleteGroups !== 'removeMembers') return;
      await changeMembers(
        deps,
        clock,
        scim,
        id,
        { steps: [{ op: 'replace', members: [] }] },
        options,
      );
    },
  };
};

export type ScimGroupService = ReturnType<typeof createScimGroupService>;
