// The SCIM User operations of one connection, over CIAM. Free of HTTP: lib/scim/handler.ts routes
// to these and renders what they return (or throw) as SCIM responses. Reads (list, get) take no
// lock; every write to a stored user goes through one step: lock the user, read it, plan, write.
import { randomBytes, randomUUID } from 'node:crypto';
import type { UserChange } from '../change.ts';
import type { KeyedLock } from '../ciam/apply.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import type { StaleGuard } from '../ciam/stale-guard.ts';
import type { CallOptions, CiamApi, CiamUser } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import type { Mapper } from '../mapping/index.ts';
import {
  applyActive,
  assertUnique,
  createUser,
  lookUp,
  readPage,
  readUser,
  writeChanges,
} from './ciam-users.ts';
import { parseFilter, toUserQuery } from './filter.ts';
import {
  ciamPageOf,
  hasFilter,
  type ListQuery,
  listResponse,
  matchesFilter,
  pagingOf,
  windowOf,
  windowOfPage,
} from './list.ts';
import { nameAttributesOf } from './names.ts';
import type { ScimOptions } from './options.ts';
import type { ScimObject } from './patch.ts';
import {
  assertCreatable,
  type ChangeMeta,
  clockedChanges,
  draftOf,
  type PlannedWrite,
  planDraft,
  planPatch,
  planPut,
  readNewUser,
  targetOf,
  type WritePlan,
} from './plan.ts';
import { toScimUser, toUserChange } from './user.ts';

export { LIST_RESPONSE_SCHEMA, type ListQuery } from './list.ts';

export interface ScimConnection {
  connection: Connection;
  options: ScimOptions;
  mapper: Mapper;
  /** The field clocks of the connection's user store; undefined when its guard is off. */
  guard?: StaleGuard | undefined;
}

export interface ScimServiceDeps {
  ciam: CiamApi;
  resolver: UserResolver;
  lock: KeyedLock;
  now: () => number;
}

const render = (scim: ScimConnection, user: CiamUser, base: string): ScimObject =>
  toScimUser(
    scim.connection,
    user,
    `${base}/Users/${user.UserId ?? ''}`,
    nameAttributesOf(scim.options),
  );

const statusTarget = (scim: ScimConnection) => ({
  userStoreId: scim.connection.userStoreId,
  deactivate: scim.options.deactivate,
});

const changeMeta = (now: () => number): ChangeMeta => ({
  eventId: randomUUID(),
  occurredAt: new Date(now()).toISOString(),
});

const listUsers = async (
  deps: ScimServiceDeps,
  scim: ScimConnection,
  query: ListQuery,
  base: string,
  options: CallOptions,
) => {
  const paging = pagingOf(query, scim.options.maxPageSize);
  if (!hasFilter(query)) {
    // Okta's connection test and imports page through everyone: one CIAM page, sliced.
    const page = await readPage(
      deps.ciam,
      scim.connection.userStoreId,
      ciamPageOf(paging),
      options,
    );
    const users = windowOfPage(paging, page.Content ?? []);
    return listResponse(
      users.map((user) => render(scim, user, base)),
      page.Total ?? users.length,
      paging.startIndex,
    );
  }
  const filter = parseFilter(query.filter);
  const { query: lookup, conditions } = toUserQuery(filter);
  const found = await lookUp(deps.ciam, scim.connection, lookup, options);
  const matching = found
    .map((user) => render(scim, user, base))
    .filter(matchesFilter(filter, conditions));
  return listResponse(windowOf(paging, matching), matching.length, paging.startIndex);
};

/**
 * The one write step, for every write (PATCH, PUT, a linking POST, DELETE): lock the user, read it
 * from CIAM once its turn comes, plan, then write: one UpdateUser with the changed fields (or
 * none) and the deactivate policy on the planned `active`. Answers the user as now stored.
 */
const writeStoredUser = (
  deps: ScimServiceDeps,
  scim: ScimConnection,
  userId: string,
  options: CallOptions,
  plan: (user: CiamUser, meta: ChangeMeta) => Promise<PlannedWrite>,
): Promise<CiamUser> =>
  deps.lock(`${scim.connection.userStoreId}\u0000${userId}`, async () => {
    const user = await readUser(deps.ciam, scim.connection.userStoreId, userId, options);
    const meta = changeMeta(deps.now);
    const { changed, draft, active } = await plan(user, meta);
    const allowed =
      scim.guard === undefined || draft === undefined
        ? changed
        : clockedChanges(scim.guard, user, draft, changed, meta);
    const written = await writeChanges(deps, scim.connection, user, allowed, options);
    return applyActive(deps.ciam, statusTarget(scim), written, active, options);
  });

/** PATCH, PUT and a linking POST: the plan's target through the mapping, changed fields only. */
const updateUser = async (
  deps: ScimServiceDeps,
  scim: ScimConnection,
  userId: string,
  plan: WritePlan,
  base: string,
  options: CallOptions,
): Promise<ScimObject> => {
  const stored = await writeStoredUser(deps, scim, userId, options, async (user, meta) => {
    const target = targetOf(plan, () => render(scim, user, base));
    return {
      ...(await planDraft(
        scim.connection,
        scim.mapper,
        target,
        user,
        meta,
        nameAttributesOf(scim.options),
      )),
      // `active` is never an UpdateUser field: the deactivate policy handles it.
      active: target.active,
    };
  });
  return render(scim, stored, base);
};

/** The CIAM user a POST links to, found by the connection's resolution; undefined if none. */
const linkedUserId = async (
  deps: ScimServiceDeps,
  scim: ScimConnection,
  change: UserChange,
  options: CallOptions,
): Promise<string | undefined> => {
  try {
    return await deps.resolver.resolve(scim.connection, change, options);
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
    return undefined;
  }
};

/**
 * POST: links to the CIAM user the connection's resolution finds and updates it like a PUT;
 * otherwise, when the connection allows it, the request carries what CreateUser requires and the
 * userName and email are free, CreateUser.
 */
const createOrLink = async (
  deps: ScimServiceDeps,
  scim: ScimConnection,
  body: unknown,
  base: string,
  options: CallOptions,
): Promise<ScimObject> => {
  const resource = readNewUser(body);
  const change = toUserChange(scim.connection.id, resource, changeMeta(deps.now));
  const linked = await linkedUserId(deps, scim, change, options);
  if (linked !== undefined) {
    // An Entra re-POST after a lost answer lands here too, so POST is idempotent.
    return updateUser(deps, scim, linked, { kind: 'replace', resource }, base, options);
  }
  const draft = await draftOf(scim.connection, scim.mapper, change, nameAttributesOf(scim.options));
  // Refused before the uniqueness lookups: a create it cannot become needs no more CIAM calls.
  if (scim.options.allowCreate === true) assertCreatable(draft);
  await assertUnique(deps.ciam, scim.connection, draft, options);
  if (scim.options.allowCreate !== true) {
    throw new AdapterError(
      'SCIM_CREATE_NOT_ALLOWED',
      'No CIAM user matches and this connection does not create users',
    );
  }
  // Sign-in is not the IdP's business here: an unguessable password nobody knows.
  const password = randomBytes(24).toString('base64url');
  const user = await createUser(deps.ciam, draft, password, options);
  return render(
    scim,
    await applyActive(deps.ciam, statusTarget(scim), user, resource.active, options),
    base,
  );
};

export const createScimService = (deps: ScimServiceDeps) => ({
  list: (scim: ScimConnection, query: ListQuery, base: string, options: CallOptions = {}) =>
    listUsers(deps, scim, query, base, options),

  get: async (scim: ScimConnection, id: string, base: string, options: CallOptions = {}) =>
    render(scim, await readUser(deps.ciam, scim.connection.userStoreId, id, options), base),

  patch: async (
    scim: ScimConnection,
    id: string,
    body: unknown,
    base: string,
    options: CallOptions = {},
  ) => updateUser(deps, scim, id, planPatch(scim.connection.id, id, body), base, options),

  put: async (
    scim: ScimConnection,
    id: string,
    body: unknown,
    base: string,
    options: CallOptions = {},
  ) => updateUser(deps, scim, id, planPut(scim.connection.id, id, body), base, options),

  create: (scim: ScimConnection, body: unknown, base: string, options: CallOptions = {}) =>
    createOrLink(deps, scim, body, base, options),

  /** Never a hard delete: the user must exist (404 otherwise) and is frozen or left as it is. */
  remove: async (scim: ScimConnection, id: string, options: CallOptions = {}): Promise<void> => {
    await writeStoredUser(deps, scim, id, options, async () => ({ changed: {}, active: false }));
  },
});

export type ScimService = ReturnType<typeof createScimService>;
