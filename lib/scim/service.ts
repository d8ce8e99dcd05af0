// The SCIM User operations of one connection, over CIAM. Free of HTTP: lib/scim/handler.ts routes
// to these and renders what they return (or throw) as SCIM responses.
import { randomBytes, randomUUID } from 'node:crypto';
import type { KeyedLock } from '../ciam/apply.ts';
import { mergeCustomAttributes } from '../ciam/custom-attributes.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import type {
  CallOptions,
  CiamApi,
  CiamUser,
  UpdateUserDraft,
  UpdateUserRequest,
} from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import type { Mapper } from '../mapping/index.ts';
import { matchesElement, normaliseAttrPath, parseFilter, toUserQuery } from './filter.ts';
import type { ScimOptions } from './options.ts';
import { applyPatch, CORE_USER_SCHEMA, compilePatch, type ScimObject } from './patch.ts';
import {
  changedFields,
  externalIdField,
  toScimUser,
  toUserChange,
  withExternalId,
} from './user.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const DEFAULT_PAGE_SIZE = 100;
const DRY_RUN = { eventId: 'dry-run', occurredAt: new Date(0).toISOString() };

export interface ScimConnection {
  connection: Connection;
  options: ScimOptions;
  mapper: Mapper;
}

export interface ScimServiceDeps {
  ciam: CiamApi;
  resolver: UserResolver;
  lock: KeyedLock;
  now: () => number;
}

export interface ScimResult {
  statusCode: number;
  /** Undefined for 204. */
  body?: unknown;
}

export interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
}

const isObject = (value: unknown): value is ScimObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const pagingNumber = (name: string, text: string | undefined, fallback: number, min: number) => {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value)) {
    throw new AdapterError('SCIM_INVALID_VALUE', `${name} must be an integer`);
  }
  // RFC 7644 §3.4.2.4: values below the minimum are read as the minimum.
  return Math.max(value, min);
};

/** Values at a (lower-cased) attribute path of a SCIM user, sub-attributes of arrays flattened. */
const valuesAt = (user: ScimObject, path: string): unknown[] => {
  let current: unknown[] = [user];
  for (const part of path.split('.')) {
    current = current.flatMap((item) => {
      if (!isObject(item)) return [];
      const key = Object.keys(item).find((k) => k.toLowerCase() === part);
      const value = key === undefined ? undefined : item[key];
      return Array.isArray(value) ? value : value === undefined ? [] : [value];
    });
  }
  return current;
};

const sameText = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;

export const createScimService = (deps: ScimServiceDeps) => {
  const { ciam } = deps;

  const readUser = async (scim: ScimConnection, userId: string, options: CallOptions) => {
    const { User } = await ciam.describeUserById(
      { UserStoreId: scim.connection.userStoreId, UserId: userId, Original: true },
      options,
    );
    if (User === null || User === undefined) {
      throw new AdapterError('USER_NOT_FOUND', 'No such user');
    }
    return User;
  };

  const render = (scim: ScimConnection, user: CiamUser, base: string): ScimObject =>
    toScimUser(scim.connection, user, `${base}/Users/${user.UserId ?? ''}`);

  /** The CIAM users a lookup finds, or none; a miss is an empty list, never an error. */
  const lookUp = async (
    scim: ScimConnection,
    query: ReturnType<typeof toUserQuery>['query'],
    options: CallOptions,
  ): Promise<CiamUser[]> => {
    const { userStoreId } = scim.connection;
    switch (query.by) {
      case 'id':
        try {
          return [await readUser(scim, query.value, options)];
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
        const { resolve } = scim.connection;
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

  const listResponse = (resources: ScimObject[], total: number, startIndex: number) => ({
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    Resources: resources,
    startIndex,
    itemsPerPage: resources.length,
  });

  /** Maps a SCIM user and keeps only what differs from CIAM; nothing absent is blanked. */
  const planUpdate = async (
    scim: ScimConnection,
    resource: ScimObject,
    user: CiamUser,
  ): Promise<Partial<UpdateUserDraft>> => {
    const change = toUserChange(scim.connection.id, resource, {
      eventId: randomUUID(),
      occurredAt: new Date(deps.now()).toISOString(),
      ...(user.UserId === undefined ? {} : { ciamUserId: user.UserId }),
    });
    const draft = withExternalId(scim.connection, await scim.mapper.map(change), change);
    return changedFields(draft, user);
  };

  /** One UpdateUser with the changed fields only, or none; answers the user as now stored. */
  const writeChanges = async (
    scim: ScimConnection,
    user: CiamUser,
    changed: Partial<UpdateUserDraft>,
    options: CallOptions,
  ): Promise<CiamUser> => {
    if (Object.keys(changed).length === 0 || user.UserId === undefined) return user;
    const request: UpdateUserRequest = {
      ...changed,
      UserStoreId: scim.connection.userStoreId,
      UserId: user.UserId,
    };
    if (changed.CustomizationAttributes !== undefined) {
      // UpdateUser replaces the whole list: keep the attributes the SCIM user does not carry.
      request.CustomizationAttributes = mergeCustomAttributes(
        user.CustomAttributes,
        changed.CustomizationAttributes,
      );
    }
    const response = await ciam.updateUser(request, options);
    // The resolver may have cached this user under the values just replaced (a POST that links).
    const field = externalIdField(scim.connection);
    const held = field === undefined ? undefined : user[field];
    deps.resolver.forget(scim.connection, {
      subject: {
        ...(typeof held === 'string' ? { externalId: held } : {}),
        ...(user.Email === undefined ? {} : { email: user.Email }),
        ...(user.PhoneNumber === undefined ? {} : { phone: user.PhoneNumber }),
      },
    });
    const {
      CustomizationAttributes: _custom,
      UserGroup: _groups,
      UserOrg: _orgs,
      ...plain
    } = changed;
    // CIAM may answer the stored user (then its LastModifiedDate too) or `User: null`.
    return response.User?.UserId === user.UserId
      ? { ...user, ...response.User }
      : { ...user, ...plain };
  };

  /**
   * The `deactivate: "freeze"` policy: `active: false` freezes the CIAM user, `active: true` lifts
   * a freeze (never a LOCK, which CIAM sets for its own reasons). Only a change is sent, so Entra's
   * periodic `active: true` costs nothing.
   */
  const applyActive = async (
    scim: ScimConnection,
    user: CiamUser,
    active: unknown,
    options: CallOptions,
  ): Promise<CiamUser> => {
    if (scim.options.deactivate !== 'freeze' || typeof active !== 'boolean') return user;
    if (user.UserId === undefined) return user;
    const status = active
      ? user.Status === 'FREEZE'
        ? 'NORMAL'
        : undefined
      : user.Status === 'FREEZE' || user.Status === 'LOCK'
        ? undefined
        : 'FREEZE';
    if (status === undefined) return user;
    await ciam.updateUserStatus(
      { UserStoreId: scim.connection.userStoreId, UserId: user.UserId, Status: status },
      options,
    );
    return { ...user, Status: status };
  };

  const locked = <T>(scim: ScimConnection, userId: string, task: () => Promise<T>) =>
    deps.lock(`${scim.connection.userStoreId}\u0000${userId}`, task);

  const readBodyUser = (body: unknown): ScimObject => {
    if (!isObject(body)) {
      throw new AdapterError('SCIM_INVALID_SYNTAX', 'The body must be a SCIM User object');
    }
    const schemas = body.schemas;
    if (
      schemas !== undefined &&
      !(
        Array.isArray(schemas) &&
        schemas.some(
          (s) => typeof s === 'string' && s.toLowerCase() === CORE_USER_SCHEMA.toLowerCase(),
        )
      )
    ) {
      throw new AdapterError('SCIM_INVALID_SYNTAX', `schemas must include ${CORE_USER_SCHEMA}`);
    }
    // Booleans as strings and case-insensitive names: the same leniency as PATCH.
    const { id, ...rest } = body;
    const resource = applyPatch({}, compilePatch({ Operations: [{ op: 'add', value: rest }] }));
    return id === undefined ? resource : { ...resource, id };
  };

  return {
    async list(scim: ScimConnection, query: ListQuery, base: string, options: CallOptions = {}) {
      const startIndex = pagingNumber('startIndex', query.startIndex, 1, 1);
      const maxPage = scim.options.maxPageSize ?? DEFAULT_PAGE_SIZE;
      const count = Math.min(pagingNumber('count', query.count, maxPage, 0), maxPage);
      if (query.filter === undefined || query.filter.trim() === '') {
        // Okta's connection test and imports page through everyone: CIAM pages by number, so the
        // page holding startIndex is read and sliced.
        const pageSize = Math.max(count, 1);
        const pageNumber = Math.floor((startIndex - 1) / pageSize) + 1;
        const page = await ciam.describeUser(
          {
            UserStoreId: scim.connection.userStoreId,
            Pageable: { PageSize: pageSize, PageNumber: pageNumber },
            Original: true,
          },
          options,
        );
        const skip = (startIndex - 1) % pageSize;
        const users = count === 0 ? [] : (page.Content ?? []).slice(skip, skip + count);
        return listResponse(
          users.map((user) => render(scim, user, base)),
          page.Total ?? users.length,
          startIndex,
        );
      }
      const filter = parseFilter(query.filter);
      const { query: lookup, conditions } = toUserQuery(filter);
      const found = await lookUp(scim, lookup, options);
      const matching = found
        .map((user) => render(scim, user, base))
        .filter((user) =>
          conditions.every(({ path, value }) =>
            valuesAt(user, normaliseAttrPath(path)).some((held) => sameText(held, value)),
          ),
        )
        .filter((user) =>
          // `emails[type eq "work"].value eq …`: the element condition holds for some email too.
          filter.op !== 'and'
            ? true
            : filter.filters.every(
                (inner) =>
                  inner.op !== '[]' ||
                  valuesAt(user, normaliseAttrPath(inner.attrPath)).some((element) =>
                    matchesElement(inner.valFilter, element),
                  ),
              ),
        );
      const page = matching.slice(startIndex - 1, startIndex - 1 + count);
      return listResponse(page, matching.length, startIndex);
    },

    async get(scim: ScimConnection, id: string, base: string, options: CallOptions = {}) {
      return render(scim, await readUser(scim, id, options), base);
    },

    async patch(
      scim: ScimConnection,
      id: string,
      body: unknown,
      base: string,
      options: CallOptions = {},
    ) {
      const steps = compilePatch(body);
      // A dry run on an empty user catches wrongly typed values before any CIAM call.
      // (Only what the stored user decides, a filter matching nothing, is left for the real run.)
      try {
        toUserChange(scim.connection.id, applyPatch({ id }, steps), DRY_RUN);
      } catch (error) {
        if (!isAdapterError(error) || error.code !== 'SCIM_NO_TARGET') throw error;
      }
      return locked(scim, id, async () => {
        const user = await readUser(scim, id, options);
        const patched = applyPatch(render(scim, user, base), steps);
        // `active` is never an UpdateUser field: the deactivate policy handles it.
        const changed = await planUpdate(scim, patched, user);
        const written = await writeChanges(scim, user, changed, options);
        return render(scim, await applyActive(scim, written, patched.active, options), base);
      });
    },

    async put(
      scim: ScimConnection,
      id: string,
      body: unknown,
      base: string,
      options: CallOptions = {},
    ) {
      const resource = readBodyUser(body);
      toUserChange(scim.connection.id, resource, DRY_RUN);
      if (resource.id !== undefined && resource.id !== id) {
        throw new AdapterError('SCIM_MUTABILITY', 'id cannot be changed');
      }
      return locked(scim, id, async () => {
        const user = await readUser(scim, id, options);
        const changed = await planUpdate(scim, { ...resource, id }, user);
        const written = await writeChanges(scim, user, changed, options);
        return render(scim, await applyActive(scim, written, resource.active, options), base);
      });
    },

    async create(scim: ScimConnection, body: unknown, base: string, options: CallOptions = {}) {
      const resource = readBodyUser(body);
      if (typeof resource.userName !== 'string' || resource.userName.trim() === '') {
        throw new AdapterError('SCIM_INVALID_VALUE', 'userName is required');
      }
      const change = toUserChange(scim.connection.id, resource, {
        eventId: randomUUID(),
        occurredAt: new Date(deps.now()).toISOString(),
      });
      let userId: string | undefined;
      try {
        userId = await deps.resolver.resolve(scim.connection, change, options);
      } catch (error) {
        if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
      }
      if (userId !== undefined) {
        // Linked: an Entra re-POST after a lost answer lands here too, so POST is idempotent.
        const linked = userId;
        return locked(scim, linked, async () => {
          const user = await readUser(scim, linked, options);
          const changed = await planUpdate(scim, resource, user);
          const written = await writeChanges(scim, user, changed, options);
          return render(scim, await applyActive(scim, written, resource.active, options), base);
        });
      }
      const draft = withExternalId(scim.connection, await scim.mapper.map(change), change);
      await assertUnique(scim, draft, options);
      if (scim.options.allowCreate !== true) {
        throw new AdapterError(
          'SCIM_CREATE_NOT_ALLOWED',
          'No CIAM user matches and this connection does not create users',
        );
      }
      const { UserStoreId, UserName, Email, PhoneNumber, ...rest } = draft;
      const created = await ciam.createUser(
        {
          ...rest,
          UserStoreId,
          UserName: UserName ?? '',
          Email: Email ?? '',
          PhoneNumber: PhoneNumber ?? '',
          // Sign-in is not the IdP's business here: an unguessable password nobody knows.
          Password: randomBytes(24).toString('base64url'),
        },
        options,
      );
      const user = created.User ?? undefined;
      if (user?.UserId === undefined) {
        throw new AdapterError('INTERNAL', 'CreateUser returned no user');
      }
      return render(scim, await applyActive(scim, user, resource.active, options), base);
    },

    async remove(scim: ScimConnection, id: string, options: CallOptions = {}) {
      // Never a hard delete: the user must exist (404 otherwise) and is frozen or left as it is.
      await locked(scim, id, async () =>
        applyActive(scim, await readUser(scim, id, options), false, options),
      );
    },
  };

  /** 409 `uniqueness` when the user name or email already belongs to another CIAM user. */
  async function assertUnique(scim: ScimConnection, draft: UpdateUserDraft, options: CallOptions) {
    const clashes: string[] = [];
    if (draft.UserName !== undefined) {
      const users = await lookUp(scim, { by: 'userName', value: draft.UserName }, options);
      if (users.length > 0) clashes.push('userName');
    }
    if (draft.Email !== undefined) {
      const users = await lookUp(scim, { by: 'email', value: draft.Email }, options);
      if (users.length > 0) clashes.push('emails');
    }
    if (clashes.length > 0) {
      throw new AdapterError(
        'SCIM_UNIQUENESS',
        `${clashes.join(' and ')} already taken by another user`,
      );
    }
  }
};

export type ScimService = ReturnType<typeof createScimService>;
