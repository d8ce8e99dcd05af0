import type { TencentClient } from '../tencent/client.ts';
import type {
  CiamApi,
  UserGroupPageResponse,
  UserListResponse,
  UserPageResponse,
  UserResponse,
} from './types.ts';
import { assertValidUpdateUser } from './update-user-schema.ts';

/** CIAM 2022-03-31 operations over a signed Tencent client. */
export const createCiamClient = (tencent: Pick<TencentClient, 'call'>): CiamApi => ({
  async updateUser(request, options) {
    // A malformed update would cost a rate-limited call and come back as a vaguer Tencent code.
    assertValidUpdateUser(request);
    return tencent.call<UserResponse>('UpdateUser', request, options);
  },
  describeUserById: (request, options) =>
    tencent.call<UserResponse>('DescribeUserById', request, options),
  listUserByProperty: (request, options) =>
    tencent.call<UserListResponse>('ListUserByProperty', request, options),
  describeUser: (request, options) =>
    tencent.call<UserPageResponse>('DescribeUser', request, options),
  listUserGroups: (request, options) =>
    tencent.call<UserGroupPageResponse>('ListUserGroups', request, options),
  // DescribeUser rather than ListUser: `userGroup` is in the key list CIAM's own DescribeUser
  // errors name, while ListUser's group key has been documented as both `userGroupId` and
  // `userGroup` over time.
  listGroupMembers: ({ UserStoreId, UserGroupId, Pageable, Original }, options) =>
    tencent.call<UserPageResponse>(
      'DescribeUser',
      {
        UserStoreId,
        Pageable,
        Filters: [
          { PropertyKey: 'userGroup', PropertyValue: UserGroupId, Logic: true, OperateLogic: '=' },
        ],
        ...(Original === undefined ? {} : { Original }),
      },
      options,
    ),
  createUser: (request, options) => tencent.call<UserResponse>('CreateUser', request, options),
  updateUserStatus: (request, options) =>
    tencent.call<{ RequestId: string }>('UpdateUserStatus', request, options),
});
