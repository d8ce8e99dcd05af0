// The CIAM calls behind the SCIM User operations, one small step each: read a user, look users up
// for a filter, read a page, write planned changes, set a planned status, create. What to send is
// decided in lib/scim/plan.ts and lib/scim/list.ts; lib/scim/service.ts puts the steps in order.
import type { UserResolver } from '../ciam/resolve.ts';
import type { CallOptions, CiamApi, CiamUser, UpdateUserDraft } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import type { UserQuery } from './filter.ts';
import { DEFAULT_PAGE_SIZE } from './list.ts';
import type { ScimDeactivate } from './options.ts';
import {
  createRequestOf,
  lookupSubjectOf,
  statusChange,
  storedAfterUpdate,
  uniquenessProbes,
  updateRequestOf,
} from './plan.ts';

/** Resolution's settings come along: lookups by externalId and forgetting a cached lookup read them. */
type StoreConnection = Pick<Connection, 'userStoreId' | 'resolve' | 'mapping'>;

/** The CIAM user by id (Original: as stored); USER_NOT_FOUND when there is none. */
export const readUser = async (
  ciam: Pick<CiamApi, 'describeUserById'>,
  userStoreId: string,
  userId: string,
  options: CallOptions,
): Promise<CiamUser> => {
  const { User } = await ciam.describeUserById(
    { UserStoreId: userStoreId, UserId: userId, Original: true },
    options,
  );
  if (User === null || User === undefined) {
    throw new AdapterError('USER_NOT_FOUND', 'No such user');
  }
  return User;
};

/** One page of every user of the store, for an unfiltered list. */
export const readPage = (
  ciam: Pick<CiamApi, 'describeUser'>,
  userStoreId: string,
  page: { pageSize: number; pageNumber: number },
  options: CallOptions,
) =>
  ciam.describeUser(
    {
      UserStoreId: userStoreId,
      Pageable: { PageSize: page.pageSize, PageNumber: page.pageNumber },
      Original: true,
    },
    options,
  );

/** The CIAM users a lookup finds, or none; a miss is an empty list, never an error. */
export const lookUp = async (
  ciam: Pick<CiamApi, 'describeUserById' | 'listUserByProperty' | 'describeUser'>,
  connection: StoreConnection,
  query: UserQuery,
  options: CallOptions,
): Promise<CiamUser[]> => {
  const { userStoreId, resolve } = connection;
  switch (query.by) {
    case 'id':
      try {
        return [await readUser(ciam, userStoreId, query.value, options)];
      } catch (error) {
        if (isAdapterError(error) && error.code === 'USER_NOT_FOUND') return [];
        throw error;
      }
    case 'email': {
      const list = await ciam.listUserByProperty(
        {
          UserStoreId: userStoreId,
          PropertyCode: 'email',
          PropertyValue: query.value,
          Original: true,
        },
        options,
      );
      return list.Users ?? [];
    }
    case 'userName':
    case 'externalId': {
      const key =
        query.by === 'userName'
          ? 'userName'
          : resolve.by === 'indexedAttribute'
            ? `indexedAttribute${resolve.index}`
            : undefined;
      // Without an IndexedAttribute holding it, no CIAM user can have this externalId.
      if (key === undefined) return [];
      const page = await ciam.describeUser(
        {
          UserStoreId: userStoreId,
          Pageable: { PageSize: DEFAULT_PAGE_SIZE, PageNumber: 1 },
          Filters: [
            { PropertyKey: key, PropertyValue: query.value, Logic: true, OperateLogic: '=' },
          ],
          Original: true,
        },
        options,
      );
      return page.Content ?? [];
    }
  }
};

/** One UpdateUser with the changed fields only, or none; answers the user as now stored. */
export const writeChanges = async (
  deps: { ciam: Pick<CiamApi, 'updateUser'>; resolver: Pick<UserResolver, 'forget'> },
  connection: StoreConnection,
  user: CiamUser,
  changed: Partial<UpdateUserDraft>,
  options: CallOptions,
): Promise<CiamUser> => {
  const request = updateRequestOf(connection.userStoreId, user, changed);
  if (request === undefined) return user;
  const response = await deps.ciam.updateUser(request, options);
  // The resolver may have cached this user under the values just replaced (a POST that links).
  deps.resolver.forget(connection, { subject: lookupSubjectOf(connection, user) });
  return storedAfterUpdate(user, changed, response.User);
};

/** UpdateUserStatus when the deactivate policy asks for a change; answers the user as now stored. */
export const applyActive = async (
  ciam: Pick<CiamApi, 'updateUserStatus'>,
  target: { userStoreId: string; deactivate: ScimDeactivate | undefined },
  user: CiamUser,
  active: unknown,
  options: CallOptions,
): Promise<CiamUser> => {
  if (user.UserId === undefined) return user;
  const status = statusChange(target.deactivate, user.Status, active);
  if (status === undefined) return user;
  await ciam.updateUserStatus(
    { UserStoreId: target.userStoreId, UserId: user.UserId, Status: status },
    options,
  );
  return { ...user, Status: status };
};

/** 409 `uniqueness` when the user name or email already belongs to another CIAM user. */
export const assertUnique = async (
  ciam: Parameters<typeof lookUp>[0],
  connection: StoreConnection,
  draft: UpdateUserDraft,
  options: CallOptions,
): Promise<void> => {
  const clashes: string[] = [];
  for (const { attribute, query } of uniquenessProbes(draft)) {
    const users = await lookUp(ciam, connection, query, options);
    if (users.length > 0) clashes.push(attribute);
  }
  if (clashes.length > 0) {
    throw new AdapterError(
      'SCIM_UNIQUENESS',
      `${clashes.join(' and ')} already taken by another user`,
    );
  }
};

/** CreateUser for a mapped draft; answers the created user. */
export const createUser = async (
  ciam: Pick<CiamApi, 'createUser'>,
  draft: UpdateUserDraft,
  password: string,
  options: CallOptions,
): Promise<CiamUser> => {
  const created = await ciam.createUser(createRequestOf(draft, password), options);
  const user = created.User ?? undefined;
  if (user?.UserId === undefined) {
    throw new AdapterError('INTERNAL', 'CreateUser returned no user');
  }
  return user;
};
