import { randomUUID } from 'node:crypto';
import type { CiamUser, MemberMap, UserGroup } from '../lib/ciam/types.ts';
import { codePointLength, INDEXED_ATTRIBUTE_MAX_CHARS } from '../lib/ciam/update-user-fields.ts';
import { ApiError } from './api-error.ts';
import type { Seed, SeedUser, SeedUserGroup } from './seed.ts';

/** Default phone rule: E.164 or a mainland 11-digit mobile number (CIAM documents no format). */
export const DEFAULT_PHONE_REGEX = '^(?:\\+[1-9]\\d{6,14}|1\\d{10})$';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PAGE_SIZE_MAX = 1000;

const INDEXED = [
  'IndexedAttribute1',
  'IndexedAttribute2',
  'IndexedAttribute3',
  'IndexedAttribute4',
  'IndexedAttribute5',
] as const;

/** String attributes an UpdateUser/CreateUser may set; an empty string clears one ([U]). */
const STRING_ATTRIBUTES = [
  'UserName',
  'PhoneNumber',
  'Email',
  'Nickname',
  'Address',
  ...INDEXED,
] as const;
type StringAttribute = (typeof STRING_ATTRIBUTES)[number];

/** DescribeUser's documented whitelist (FailedOperation.QueryUsersParameterMustInWhitelist). */
const USER_STATUSES = new Set(['NORMAL', 'LOCK', 'FREEZE']);

const QUERY_WHITELIST = new Set([
  'userName',
  'phoneNumber',
  'email',
  'userGroup',
  'alipayUserId',
  'wechatOpenId',
  'wechatUnionId',
  'qqOpenId',
  'qqUnionId',
  'lastModifiedDate',
  'indexedAttribute1',
  'indexedAttribute2',
  'indexedAttribute3',
  'indexedAttribute4',
  'indexedAttribute5',
]);

type StoredUser = SeedUser & { UserStoreId: string };

interface StoreState {
  id: string;
  tenantId: string | undefined;
  groups: Map<string, SeedUserGroup>;
  users: StoredUser[];
}

interface Page<T> {
  Total: number;
  Pageable: { PageSize: number; PageNumber: number };
  Content: T[];
}

export type PageResult = Page<CiamUser>;
export type GroupPageResult = Page<UserGroup>;

type ListFilter = { Key?: string; Values?: string[]; Logic?: boolean };

/** Read-only view handed out for debugging; every call returns copies. */
export interface StoreView {
  userStoreIds(): string[];
  listUsers(userStoreId: string): CiamUser[];
  getUser(userStoreId: string, userId: string): CiamUser | undefined;
  listGroups(userStoreId: string): UserGroup[];
}

const maskPhone = (phone: string): string => {
  if (phone.length >= 8) return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
  if (phone.length >= 3) return `${phone.slice(0, 1)}****${phone.slice(-1)}`;
  return '****';
};

const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  if (at < 1) return maskPhone(email);
  const local = email.slice(0, at);
  return `${local.slice(0, local.length > 2 ? 2 : 1)}***${email.slice(at)}`;
};

const lowerFirst = (key: string): string => key.charAt(0).toLowerCase() + key.slice(1);
const upperFirst = (key: string): string => key.charAt(0).toUpperCase() + key.slice(1);

type Params = Record<string, unknown>;
const str = (params: Params, key: string): string | undefined =>
  typeof params[key] === 'string' ? (params[key] as string) : undefined;
const list = (params: Params, key: string): string[] | undefined =>
  Array.isArray(params[key]) ? (params[key] as string[]) : undefined;

const fail = (code: string, message: string): never => {
  throw new ApiError(code, message);
};

export class CiamStore implements StoreView {
  readonly #seed: Seed;
  readonly #now: () => number;
  readonly #phone: RegExp;
  #stores = new Map<string, StoreState>();

  constructor(seed: Seed, now: () => number, phoneRegex: string = DEFAULT_PHONE_REGEX) {
    this.#seed = structuredClone(seed);
    this.#now = now;
    this.#phone = new RegExp(phoneRegex);
    this.reset();
  }

  reset(): void {
    this.#stores = new Map(
      this.#seed.userStores.map((s) => [
        s.UserStoreId,
        {
          id: s.UserStoreId,
          tenantId: s.TenantId,
          groups: new Map((s.UserGroups ?? []).map((g) => [g.UserGroupId, structuredClone(g)])),
          users: (s.Users ?? []).map((u) => ({
            ...structuredClone(u),
            UserStoreId: s.UserStoreId,
          })),
        },
      ]),
    );
  }

  userStoreIds(): string[] {
    return [...this.#stores.keys()];
  }

  listUsers(userStoreId: string): CiamUser[] {
    const store = this.#stores.get(userStoreId);
    return store ? store.users.map((u) => this.#present(store, u, true)) : [];
  }

  getUser(userStoreId: string, userId: string): CiamUser | undefined {
    const store = this.#stores.get(userStoreId);
    const user = store?.users.find((u) => u.UserId === userId);
    return store && user ? this.#present(store, user, true) : undefined;
  }

  listGroups(userStoreId: string): UserGroup[] {
    const store = this.#stores.get(userStoreId);
    return store ? [...store.groups.values()].map((g) => presentGroup(store, g)) : [];
  }

  updateUser(params: Params): CiamUser {
    const store = this.#store(params);
    const user = this.#user(store, params);
    this.#checkAttributes(store, params, user.UserId);
    const next: StoredUser = structuredClone(user);
    this.#apply(next, params);
    next.LastModifiedDate = this.#now();
    store.users[store.users.indexOf(user)] = next;
    return this.#present(store, next, true);
  }

  /** `Status` ∈ NORMAL, LOCK, FREEZE, with CIAM's codes otherwise. */
  updateUserStatus(params: Params): void {
    const store = this.#store(params);
    const user = this.#user(store, params);
    const status =
      str(params, 'Status') ||
      fail('FailedOperation.UserStatusRequired', 'The user status is required.');
    if (!USER_STATUSES.has(status)) {
      fail('FailedOperation.InvalidUserStatusEnum', 'The user status is invalid.');
    }
    const next: StoredUser = {
      ...structuredClone(user),
      Status: status,
      LastModifiedDate: this.#now(),
    };
    store.users[store.users.indexOf(user)] = next;
  }

  createUser(params: Params): CiamUser {
    const store = this.#store(params);
    const empty: Array<[string, string]> = [
      ['UserName', 'FailedOperation.UserNameIsNull'],
      ['PhoneNumber', 'FailedOperation.PhoneNumberIsNull'],
      ['Email', 'FailedOperation.EmailIsNull'],
      ['Password', 'FailedOperation.PasswordIsNull'],
    ];
    for (const [field, code] of empty) {
      if ((str(params, field) ?? '').trim() === '') fail(code, `${field} must not be empty.`);
    }
    this.#checkAttributes(store, params, undefined);
    const now = this.#now();
    const user: StoredUser = {
      UserId: randomUUID().replaceAll('-', ''),
      UserStoreId: store.id,
      Status: 'NORMAL',
      CreatedDate: now,
      LastModifiedDate: now,
    };
    // The password is accepted and dropped: nothing here authenticates users.
    this.#apply(user, params);
    store.users.push(user);
    return this.#present(store, user, true);
  }

  describeUserById(params: Params): CiamUser {
    const store = this.#store(params);
    return this.#present(store, this.#user(store, params), params.Original === true);
  }

  listUserByProperty(params: Params): CiamUser[] {
    const store = this.#store(params);
    const code = str(params, 'PropertyCode');
    const value = str(params, 'PropertyValue') ?? '';
    if (code !== 'email' && code !== 'phoneNumber') {
      return fail('InvalidParameterValue', 'PropertyCode must be `email` or `phoneNumber`.');
    }
    const matches = store.users.filter((u) =>
      code === 'email'
        ? u.Email !== undefined && u.Email.toLowerCase() === value.toLowerCase()
        : u.PhoneNumber === value,
    );
    return matches.map((u) => this.#present(store, u, params.Original === true));
  }

  describeUser(params: Params): PageResult {
    const store = this.#store(params);
    const filters = (params.Filters ?? []) as Array<{
      PropertyKey: string;
      PropertyValue: string;
      Logic: boolean;
      OperateLogic: string;
    }>;
    const keys = new Set<string>();
    for (const f of filters) {
      if (!QUERY_WHITELIST.has(f.PropertyKey)) {
        fail(
          'FailedOperation.QueryUsersParameterMustInWhitelist',
          `Query parameters must be among: ${[...QUERY_WHITELIST].join(', ')}.`,
        );
      }
      if (keys.has(f.PropertyKey)) {
        fail('FailedOperation.QueryUsersParameterRepeat', 'Query parameters must not repeat.');
      }
      keys.add(f.PropertyKey);
    }
    const predicates = filters.map((f) => {
      const test = queryPredicate(f.PropertyKey, f.OperateLogic, f.PropertyValue);
      return (u: StoredUser) => test(u) === f.Logic;
    });
    let users = store.users.filter((u) => predicates.every((p) => p(u)));
    const sort = params.Sort as { PropertyKey: string; Order: string } | undefined;
    if (sort) users = sortUsers(users, sort);
    return this.#page(store, users, params);
  }

  listUser(params: Params): PageResult {
    const store = this.#store(params);
    const filters = (params.Filters ?? []) as ListFilter[];
    const predicates = filters.map((f) => {
      const test = listPredicate(f.Key, f.Values ?? []);
      return (u: StoredUser) => test(u) === (f.Logic ?? true);
    });
    return this.#page(
      store,
      store.users.filter((u) => predicates.every((p) => p(u))),
      params,
    );
  }

  /** The store's groups in the order they were seeded, filtered and paged as ListUser pages. */
  listUserGroups(params: Params): GroupPageResult {
    const store = this.#store(params);
    const filters = (params.Filters ?? []) as ListFilter[];
    const predicates = filters.map((f) => {
      const test = groupPredicate(f.Key, f.Values ?? []);
      return (g: SeedUserGroup) => test(g) === (f.Logic ?? true);
    });
    const groups = [...store.groups.values()].filter((g) => predicates.every((p) => p(g)));
    return pageOf(groups, params, (g) => presentGroup(store, g));
  }

  #store(params: Params): StoreState {
    const store = this.#stores.get(str(params, 'UserStoreId') ?? '');
    return store ?? fail('FailedOperation.InvalidUserStore', 'The user pool is invalid.');
  }

  #user(store: StoreState, params: Params): StoredUser {
    const user = store.users.find((u) => u.UserId === str(params, 'UserId'));
    return user ?? fail('FailedOperation.UserNotFound', 'The user does not exist.');
  }

  /** Format, length, group and uniqueness rules; messages name fields, never values. */
  #checkAttributes(store: StoreState, params: Params, selfId: string | undefined): void {
    const phone = str(params, 'PhoneNumber');
    if (phone && !this.#phone.test(phone)) {
      fail(
        'FailedOperation.AttributeFormatError',
        'The user attribute format is abnormal: PhoneNumber.',
      );
    }
    const email = str(params, 'Email');
    if (email && !EMAIL.test(email)) {
      fail('FailedOperation.AttributeFormatError', 'The user attribute format is abnormal: Email.');
    }
    const birthdate = params.Birthdate;
    if (birthdate !== undefined && birthdate !== null && !Number.isSafeInteger(birthdate)) {
      fail(
        'FailedOperation.AttributeFormatError',
        'The user attribute format is abnormal: Birthdate.',
      );
    }
    for (const field of INDEXED) {
      const value = str(params, field);
      if (value !== undefined && codePointLength(value) > INDEXED_ATTRIBUTE_MAX_CHARS) {
        fail(
          'FailedOperation.IndexedAttributeTooLong',
          `indexedAttribute can contain up to ${INDEXED_ATTRIBUTE_MAX_CHARS} characters: ${field}.`,
        );
      }
    }
    for (const group of list(params, 'UserGroup') ?? []) {
      if (!store.groups.has(group)) {
        fail('FailedOperation.UserGroupNotFound', 'The user group does not exist.');
      }
    }
    const others = store.users.filter((u) => u.UserId !== selfId);
    const userName = str(params, 'UserName');
    if (userName && others.some((u) => u.UserName === userName)) {
      fail('FailedOperation.UserNameAlreadyExists', 'The user name already exists.');
    }
    if (email && others.some((u) => u.Email?.toLowerCase() === email.toLowerCase())) {
      fail(
        'FailedOperation.EmailAlreadyExists',
        'The email address has already been bound to a user.',
      );
    }
    if (phone && others.some((u) => u.PhoneNumber === phone)) {
      fail(
        'FailedOperation.PhoneNumberAlreadyExists',
        'The mobile number has already been bound to a user.',
      );
    }
  }

  /** Omitted = unchanged, provided = set, lists replaced whole (assumed: CIAM does not say). */
  #apply(user: StoredUser, params: Params): void {
    for (const field of STRING_ATTRIBUTES) {
      const value = str(params, field);
      if (value === undefined) continue;
      if (value === '') delete user[field as StringAttribute];
      else user[field as StringAttribute] = value;
    }
    if (typeof params.Birthdate === 'number') user.Birthdate = params.Birthdate;
    const groups = list(params, 'UserGroup');
    if (groups) user.UserGroups = [...new Set(groups)];
    const orgs = list(params, 'UserOrg');
    if (orgs) user.UserOrgs = [...new Set(orgs)];
    if (Array.isArray(params.CustomizationAttributes)) {
      user.CustomAttributes = (params.CustomizationAttributes as MemberMap[]).map((m) => ({
        Name: m.Name,
        Value: m.Value,
        ...(m.Type === undefined ? {} : { Type: m.Type }),
      }));
    }
  }

  #page(store: StoreState, users: StoredUser[], params: Params): PageResult {
    return pageOf(users, params, (u) => this.#present(store, u, params.Original === true));
  }

  #present(store: StoreState, user: StoredUser, original: boolean): CiamUser {
    const out: CiamUser = { ...structuredClone(user) };
    if (user.UserGroups) {
      out.UserGroupNames = user.UserGroups.map((id) => store.groups.get(id)?.DisplayName ?? id);
    }
    if (!original) {
      if (user.PhoneNumber) out.PhoneNumber = maskPhone(user.PhoneNumber);
      if (user.Email) out.Email = maskEmail(user.Email);
    }
    return out;
  }
}

/** One 1-based page of `items` and the total of them all. */
const pageOf = <T, R>(items: T[], params: Params, present: (item: T) => R): Page<R> => {
  const { PageSize, PageNumber } = params.Pageable as { PageSize: number; PageNumber: number };
  if (PageSize < 1 || PageSize > PAGE_SIZE_MAX) {
    fail('InvalidParameterValue', `Pageable.PageSize must be between 1 and ${PAGE_SIZE_MAX}.`);
  }
  if (PageNumber < 1) fail('InvalidParameterValue', 'Pageable.PageNumber starts at 1.');
  const start = (PageNumber - 1) * PageSize;
  return {
    Total: items.length,
    Pageable: { PageSize, PageNumber },
    Content: items.slice(start, start + PageSize).map(present),
  };
};

const presentGroup = (store: StoreState, group: SeedUserGroup): UserGroup => ({
  UserGroupId: group.UserGroupId,
  ...(group.DisplayName === undefined ? {} : { DisplayName: group.DisplayName }),
  ...(group.Description === undefined ? {} : { Description: group.Description }),
  UserStoreId: store.id,
  ...(store.tenantId === undefined ? {} : { TenantId: store.tenantId }),
  ...(group.CreatedDate === undefined ? {} : { CreatedDate: group.CreatedDate }),
  ...(group.LastModifyDate === undefined ? {} : { LastModifyDate: group.LastModifyDate }),
});

/**
 * ListUserGroups filter keys: only `condition` is documented, its values matching a group's id
 * or name. The match mode is not documented; this one is the loosest plausible (any value a
 * case-insensitive part of either), so a client that needs an exact name must check it itself.
 */
const groupPredicate = (
  key: string | undefined,
  values: string[],
): ((group: SeedUserGroup) => boolean) => {
  if (!key)
    return fail('MissingParameter', 'The request is missing a required parameter `Filters.N.Key`.');
  if (key !== 'condition') return fail('InvalidParameterValue', `Unsupported filter Key ${key}.`);
  const needles = values.map((v) => v.toLowerCase());
  return (g) =>
    [g.UserGroupId, g.DisplayName].some(
      (field) => field !== undefined && needles.some((n) => field.toLowerCase().includes(n)),
    );
};

const userProperty = (user: StoredUser, key: string): unknown =>
  (user as unknown as Record<string, unknown>)[upperFirst(key)];

const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

/** DescribeUser filter semantics; `Logic` (true = as stated, false = negated) is applied by the caller. */
const queryPredicate = (
  key: string,
  operator: string,
  value: string,
): ((user: StoredUser) => boolean) => {
  if (key === 'userGroup') {
    if (operator !== '=' && operator !== '!=') {
      return fail('InvalidParameterValue', 'userGroup supports OperateLogic = and != only.');
    }
    return (u) => (u.UserGroups ?? []).includes(value) === (operator === '=');
  }
  const numeric = key === 'lastModifiedDate';
  const parse = (text: string): string | number => {
    if (!numeric) return text;
    const n = Number(text);
    return Number.isFinite(n) ? n : fail('InvalidParameterValue', `${key} must be a number.`);
  };
  const read = (u: StoredUser): string | number | undefined => {
    const v = userProperty(u, key);
    return typeof v === 'string' || typeof v === 'number' ? v : undefined;
  };
  if (operator === 'between') {
    const bounds = value.split(',');
    if (bounds.length !== 2) {
      return fail('InvalidParameterValue', 'between expects `low,high` in PropertyValue.');
    }
    const low = parse(bounds[0] ?? '');
    const high = parse(bounds[1] ?? '');
    return (u) => {
      const v = read(u);
      return v !== undefined && compare(v, low) >= 0 && compare(v, high) <= 0;
    };
  }
  const target = parse(value);
  const ops: Record<string, (c: number) => boolean> = {
    '=': (c) => c === 0,
    '!=': (c) => c !== 0,
    '>': (c) => c > 0,
    '<': (c) => c < 0,
    '>=': (c) => c >= 0,
    '<=': (c) => c <= 0,
  };
  const op = ops[operator];
  if (!op) return fail('InvalidParameterValue', `Unsupported OperateLogic ${operator}.`);
  return (u) => {
    const v = read(u);
    if (v === undefined) return operator === '!=';
    return op(compare(v, target));
  };
};

const sortUsers = (users: StoredUser[], sort: { PropertyKey: string; Order: string }) => {
  if (!QUERY_WHITELIST.has(sort.PropertyKey) || sort.PropertyKey === 'userGroup') {
    return fail(
      'FailedOperation.QueryUsersSortParameterMustInWhitelist',
      'The sort parameter is not in the whitelist.',
    );
  }
  if (sort.Order !== 'ASC' && sort.Order !== 'DESC') {
    return fail('InvalidParameterValue', 'Sort.Order must be ASC or DESC.');
  }
  const sign = sort.Order === 'ASC' ? 1 : -1;
  const key = (u: StoredUser): string | number => {
    const v = userProperty(u, sort.PropertyKey);
    return typeof v === 'string' || typeof v === 'number' ? v : '';
  };
  return [...users].sort((a, b) => sign * compare(key(a), key(b)));
};

/** ListUser's documented filter keys; other keys compare a same-named string attribute. */
const listPredicate = (
  key: string | undefined,
  values: string[],
): ((user: StoredUser) => boolean) => {
  if (!key)
    return fail('MissingParameter', 'The request is missing a required parameter `Filters.N.Key`.');
  if (key === 'condition') {
    const needles = values.map((v) => v.toLowerCase());
    return (u) =>
      [u.UserId, u.UserName, u.PhoneNumber, u.Email].some(
        (field) => field !== undefined && needles.some((n) => field.toLowerCase().includes(n)),
      );
  }
  // The group key was `userGroupId` in CIAM's API description until it became `userGroup`; a
  // client written against either keeps working here.
  if (key === 'userGroup' || key === 'userGroupId') {
    return (u) => (u.UserGroups ?? []).some((g) => values.includes(g));
  }
  if (key === 'userOrg') return (u) => (u.UserOrgs ?? []).some((o) => values.includes(o));
  const field = upperFirst(key);
  if (!(STRING_ATTRIBUTES as readonly string[]).includes(field) || lowerFirst(field) !== key) {
    return fail('InvalidParameterValue', `Unsupported filter Key ${key}.`);
  }
  return (u) => {
    const v = userProperty(u, key);
    return typeof v === 'string' && values.includes(v);
  };
};
