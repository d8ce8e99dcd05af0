/** CIAM API 2022-03-31 shapes used by the adapter, as Tencent Cloud's API reference gives them. */

import type { MemberMap, UpdateUserRequest } from './update-user-fields.ts';

// UpdateUser's shapes are derived from the one field table in update-user-fields.ts.
export type {
  MemberMap,
  UpdateUserDraft,
  UpdateUserField,
  UpdateUserRequest,
} from './update-user-fields.ts';

export interface CiamUser {
  UserId?: string;
  UserName?: string;
  PhoneNumber?: string;
  Email?: string;
  Nickname?: string;
  Address?: string;
  Birthdate?: number;
  Status?: string;
  /** Ids of the user's groups. */
  UserGroups?: string[];
  /** Names of the same groups, in the same order. */
  UserGroupNames?: string[];
  UserOrgs?: string[];
  CustomAttributes?: MemberMap[];
  IndexedAttribute1?: string;
  IndexedAttribute2?: string;
  IndexedAttribute3?: string;
  IndexedAttribute4?: string;
  IndexedAttribute5?: string;
  CreatedDate?: number;
  LastModifiedDate?: number;
  UserStoreId?: string;
  [key: string]: unknown;
}

export interface Pageable {
  PageSize: number;
  PageNumber: number;
}

export interface QueryUserFilter {
  PropertyKey: string;
  PropertyValue: string;
  Logic: boolean;
  OperateLogic: string;
}

/**
 * A user group of a user store. CIAM spells the change time `LastModifyDate` here, unlike the
 * user's `LastModifiedDate`; its answers may leave any field but the id null.
 */
export interface UserGroup {
  UserGroupId: string;
  DisplayName?: string;
  Description?: string | null;
  UserStoreId?: string;
  TenantId?: string;
  /** Epoch milliseconds. */
  CreatedDate?: number;
  /** Epoch milliseconds. */
  LastModifyDate?: number;
}

/** The filter of ListUser and ListUserGroups: `Logic` false negates it. */
export interface ListFilter {
  Key?: string;
  Values?: string[];
  Logic?: boolean;
}

/**
 * ListUserGroups takes one filter key, `condition`, whose values match a group's id or its name;
 * how a name matches (whole, part, case) is not documented, so callers check the answers.
 */
export interface ListUserGroupsRequest {
  UserStoreId: string;
  Pageable: Pageable;
  Filters?: ListFilter[];
}

export interface UserGroupPageResponse {
  Total: number;
  Pageable?: Pageable;
  Content: UserGroup[];
  RequestId: string;
}

/** One page of the users in a group (DescribeUser filtered on `userGroup`). */
export interface ListGroupMembersRequest {
  UserStoreId: string;
  UserGroupId: string;
  Pageable: Pageable;
  Original?: boolean;
}

export interface DescribeUserRequest {
  UserStoreId: string;
  Pageable: Pageable;
  Filters?: QueryUserFilter[];
  Original?: boolean;
}

export interface ListUserByPropertyRequest {
  UserStoreId: string;
  PropertyCode: 'email' | 'phoneNumber';
  PropertyValue: string;
  Original?: boolean;
}

export interface DescribeUserByIdRequest {
  UserStoreId: string;
  UserId: string;
  Original?: boolean;
}

/** CreateUser takes UpdateUser's fields, with these five required and a password. */
export type CreateUserRequest = Omit<
  UpdateUserRequest,
  'UserId' | 'PhoneNumber' | 'Email' | 'UserName'
> & {
  PhoneNumber: string;
  Email: string;
  Password: string;
  UserName: string;
};

/** `FREEZE` stops the user signing in; `NORMAL` lets them again. */
export type UserStatus = 'NORMAL' | 'LOCK' | 'FREEZE';

export interface UpdateUserStatusRequest {
  UserStoreId: string;
  UserId: string;
  Status: UserStatus;
}

export interface UserResponse {
  User: CiamUser | null;
  RequestId: string;
}

export interface UserListResponse {
  Users: CiamUser[];
  RequestId: string;
}

export interface UserPageResponse {
  Total: number;
  Pageable?: Pageable;
  Content: CiamUser[];
  RequestId: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Told when an attempt was sent but its outcome is unknown (timed out, connection dropped) and
   * the call went on: that attempt may still land later, after this call has returned.
   */
  onUncertainAttempt?: () => void;
}

/** The CIAM operations the adapter uses; `lib/ciam/client.ts` implements it over TC3 + fetch. */
export interface CiamApi {
  updateUser(request: UpdateUserRequest, options?: CallOptions): Promise<UserResponse>;
  describeUserById(request: DescribeUserByIdRequest, options?: CallOptions): Promise<UserResponse>;
  listUserByProperty(
    request: ListUserByPropertyRequest,
    options?: CallOptions,
  ): Promise<UserListResponse>;
  describeUser(request: DescribeUserRequest, options?: CallOptions): Promise<UserPageResponse>;
  listUserGroups(
    request: ListUserGroupsRequest,
    options?: CallOptions,
  ): Promise<UserGroupPageResponse>;
  listGroupMembers(
    request: ListGroupMembersRequest,
    options?: CallOptions,
  ): Promise<UserPageResponse>;
  createUser(request: CreateUserRequest, options?: CallOptions): Promise<UserResponse>;
  updateUserStatus(
    request: UpdateUserStatusRequest,
    options?: CallOptions,
  ): Promise<{ RequestId: string }>;
}
