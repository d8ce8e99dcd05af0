// What a SCIM write asks of CIAM, worked out without calling it: the SCIM user a request wants
// given the stored one, the UpdateUser fields that differ, the status the deactivate policy sets,
// and the CreateUser request. lib/scim/service.ts makes the calls these describe.
import type { UserChange } from '../change.ts';
import { mergeCustomAttributes } from '../ciam/custom-attributes.ts';
import {
  CLOCKED_FIELDS,
  clockFieldsOf,
  encodeClocks,
  MAX_CLOCKS_CHARS,
  planFieldWrite,
} from '../ciam/field-clocks.ts';
import { clockOf, readClocks, type StaleGuard } from '../ciam/stale-guard.ts';
import type {
  CiamUser,
  CreateUserRequest,
  MemberMap,
  UpdateUserDraft,
  UpdateUserRequest,
  UserStatus,
} from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import type { Mapper } from '../mapping/index.ts';
import { type NameAttributes, withNames } from './names.ts';
import type { ScimDeactivate } from './options.ts';
import {
  applyPatch,
  CORE_USER_SCHEMA,
  type CompiledStep,
  compilePatch,
  type ScimObject,
} from './patch.ts';
import { changedFields, externalIdField, toUserChange, withExternalId } from './user.ts';

/** Metadata for a check that only types the values: nothing mapped with it is ever written. */
const DRY_RUN = { eventId: 'dry-run', occurredAt: new Date(0).toISOString() };

/** The change metadata a mapped SCIM user carries (the mapping may read it). */
export interface ChangeMeta {
  eventId: string;
  occurredAt: string;
}

/**
 * What a write asks for. PATCH: the stored CIAM user (in its SCIM form) with the operations
 * applied. PUT and a linking POST: the body as sent, whatever is stored.
 */
export type WritePlan =
  | { kind: 'patch'; steps: readonly CompiledStep[] }
  | { kind: 'replace'; resource: ScimObject };

/** The SCIM user a plan asks for; the stored user is rendered only when PATCH needs it. */
export const targetOf = (plan: WritePlan, stored: () => ScimObject): ScimObject =>
  plan.kind === 'patch' ? applyPatch(stored(), plan.steps) : plan.resource;

/** What one write to a stored user sends: UpdateUser fields (none when empty), then `active`. */
export interface PlannedWrite {
  changed: Partial<UpdateUserDraft>;
  /** The whole mapped request, when it is a change of the user's fields (for the field clocks). */
  draft?: UpdateUserDraft;
  /** For the deactivate policy; anything but a boolean leaves the status alone. */
  active: unknown;
}

/** A PUT or POST body as a SCIM user, with the same leniency PATCH values get. */
export const readBodyUser = (body: unknown): ScimObject => {
  if (!isRecord(body)) {
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

/**
 * A PATCH body as a plan. A dry run on an empty user catches wrongly typed values before any
 * CIAM call; only what the stored user decides (a filter matching nothing) is left for the real run.
 */
export const planPatch = (connectionId: string, id: string, body: unknown): WritePlan => {
  const steps = compilePatch(body);
  try {
    toUserChange(connectionId, applyPatch({ id }, steps), DRY_RUN);
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'SCIM_NO_TARGET') throw error;
  }
  return { kind: 'patch', steps };
};

/** A PUT body as a plan: the body as sent, under the id of the URL (which it may not change). */
export const planPut = (connectionId: string, id: string, body: unknown): WritePlan => {
  const resource = readBodyUser(body);
  toUserChange(connectionId, resource, DRY_RUN);
  if (resource.id !== undefined && resource.id !== id) {
    throw new AdapterError('SCIM_MUTABILITY', 'id cannot be changed');
  }
  return { kind: 'replace', resource: { ...resource, id } };
};

/** A POST body as a SCIM user; creating or linking needs a userName. */
export const readNewUser = (body: unknown): ScimObject => {
  const resource = readBodyUser(body);
  if (typeof resource.userName !== 'string' || resource.userName.trim() === '') {
    throw new AdapterError('SCIM_INVALID_VALUE', 'userName is required');
  }
  return resource;
};

type MappedConnection = Pick<Connection, 'id' | 'resolve' | 'mapping'>;

/**
 * A SCIM user through the connection's mapping, `externalId` into its IndexedAttribute and the
 * parts of `name` into the custom attributes that keep them.
 */
export const draftOf = async (
  connection: MappedConnection,
  mapper: Mapper,
  change: UserChange,
  names: NameAttributes = {},
): Promise<UpdateUserDraft> =>
  withNames(
    connection,
    names,
    withExternalId(connection, await mapper.map(change), change),
    change.raw,
  );

/**
 * Maps the target SCIM user: the whole draft (every field the request carries, for the field
 * clocks) and what of it differs from CIAM (what to write; nothing absent is blanked).
 */
export const planDraft = async (
  connection: MappedConnection,
  mapper: Mapper,
  target: ScimObject,
  user: CiamUser,
  meta: ChangeMeta,
  names: NameAttributes = {},
): Promise<{ draft: UpdateUserDraft; changed: Partial<UpdateUserDraft> }> => {
  const change = toUserChange(connection.id, target, {
    ...meta,
    ...(user.UserId === undefined ? {} : { ciamUserId: user.UserId }),
  });
  const draft = await draftOf(connection, mapper, change, names);
  return { draft, changed: changedFields(draft, user) };
};

/** Maps the target SCIM user and keeps only what differs from CIAM; nothing absent is blanked. */
export const planChanges = async (
  connection: MappedConnection,
  mapper: Mapper,
  target: ScimObject,
  user: CiamUser,
  meta: ChangeMeta,
  names: NameAttributes = {},
): Promise<Partial<UpdateUserDraft>> =>
  (await planDraft(connection, mapper, target, user, meta, names)).changed;

/**
 * What the field clocks let a SCIM write change: of the fields that differ, those where this
 * request (clocked by when it was received) is newer than the field's clock and its connection
 * may set the field, with the clocks of every field the request carries moved on. Nothing when no
 * value changes: the clocks alone are not worth a write.
 */
export const clockedChanges = (
  guard: StaleGuard,
  user: CiamUser,
  draft: UpdateUserDraft,
  changed: Partial<UpdateUserDraft>,
  meta: ChangeMeta,
): Partial<UpdateUserDraft> => {
  const clock = clockOf(guard, meta);
  if (clock === undefined) throw new AdapterError('INTERNAL', 'The request has no valid time');
  const current = readClocks(user.CustomAttributes, guard, clockFieldsOf(draft));
  const plan = planFieldWrite(draft, clock, current, guard.authorityOf);
  const newer = new Set(plan.written);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(changed)) {
    if (field === 'CustomizationAttributes') {
      const kept = (value as MemberMap[]).filter((item) => newer.has(`custom:${item.Name}`));
      if (kept.length > 0) out[field] = kept;
    } else if (!(CLOCKED_FIELDS as readonly string[]).includes(field) || newer.has(field)) {
      out[field] = value;
    }
  }
  if (Object.keys(out).length === 0) return {};
  const encoded = encodeClocks(plan.clocks);
  if (encoded.length > MAX_CLOCKS_CHARS) {
    throw new AdapterError(
      'CLOCKS_TOO_LONG',
      `The user's field clocks would need ${encoded.length} characters`,
    );
  }
  out.CustomizationAttributes = [
    ...((out.CustomizationAttributes as MemberMap[] | undefined) ?? []),
    { Name: guard.attribute, Value: encoded, Type: guard.type },
  ];
  return out as Partial<UpdateUserDraft>;
};

/** The UpdateUser request for the changed fields, or none when nothing changed. */
export const updateRequestOf = (
  userStoreId: string,
  user: CiamUser,
  changed: Partial<UpdateUserDraft>,
): UpdateUserRequest | undefined => {
  if (Object.keys(changed).length === 0 || user.UserId === undefined) return undefined;
  const request: UpdateUserRequest = { ...changed, UserStoreId: userStoreId, UserId: user.UserId };
  if (changed.CustomizationAttributes !== undefined) {
    // UpdateUser replaces the whole list: keep the attributes the SCIM user does not carry.
    request.CustomizationAttributes = mergeCustomAttributes(
      user.CustomAttributes,
      changed.CustomizationAttributes,
    );
  }
  return request;
};

/** What the resolver may have cached this user under, before an update replaces it. */
export const lookupSubjectOf = (
  connection: Pick<Connection, 'resolve'>,
  user: CiamUser,
): UserChange['subject'] => {
  const field = externalIdField(connection);
  const held = field === undefined ? undefined : user[field];
  return {
    ...(typeof held === 'string' ? { externalId: held } : {}),
    ...(user.Email === undefined ? {} : { email: user.Email }),
    ...(user.PhoneNumber === undefined ? {} : { phone: user.PhoneNumber }),
  };
};

/**
 * The user as stored after UpdateUser. CIAM may answer the stored user (then its
 * LastModifiedDate too) or `User: null`; then the plain fields sent are laid over the old user.
 */
export const storedAfterUpdate = (
  user: CiamUser,
  changed: Partial<UpdateUserDraft>,
  answered: CiamUser | null | undefined,
): CiamUser => {
  if (answered?.UserId === user.UserId) return { ...user, ...answered };
  const {
    CustomizationAttributes: _custom,
    UserGroup: _groups,
    UserOrg: _orgs,
    ...plain
  } = changed;
  return { ...user, ...plain };
};

/**
 * The `deactivate: "freeze"` policy: `active: false` freezes the CIAM user, `active: true` lifts
 * a freeze (never a LOCK, which CIAM sets for its own reasons). Only a change is planned, so
 * Entra's periodic `active: true` costs nothing; under `ignore` nothing ever is.
 */
export const statusChange = (
  deactivate: ScimDeactivate | undefined,
  status: CiamUser['Status'],
  active: unknown,
): UserStatus | undefined => {
  if (deactivate !== 'freeze' || typeof active !== 'boolean') return undefined;
  if (active) return status === 'FREEZE' ? 'NORMAL' : undefined;
  return status === 'FREEZE' || status === 'LOCK' ? undefined : 'FREEZE';
};

/** The lookups that must find nobody before a POST creates: SCIM attribute and CIAM query. */
export const uniquenessProbes = (draft: UpdateUserDraft) => [
  ...(draft.UserName === undefined
    ? []
    : [{ attribute: 'userName', query: { by: 'userName', value: draft.UserName } as const }]),
  ...(draft.Email === undefined
    ? []
    : [{ attribute: 'emails', query: { by: 'email', value: draft.Email } as const }]),
];

/** What CreateUser requires that a SCIM user supplies (the adapter supplies the password). */
const CREATE_REQUIRES = [
  { field: 'UserName', attribute: 'userName' },
  { field: 'Email', attribute: 'emails' },
  { field: 'PhoneNumber', attribute: 'phoneNumbers' },
] as const;

/** The CreateUser fields a mapped draft lacks, each with the SCIM attribute that supplies it. */
export const missingForCreate = (draft: UpdateUserDraft) =>
  CREATE_REQUIRES.filter(({ field }) => (draft[field] ?? '').trim() === '');

/**
 * `invalidValue` naming what a create lacks, before CIAM is asked: CreateUser would refuse it
 * (`…IsNull`), and no client can tell that answer from a fault of the adapter.
 */
export const assertCreatable = (draft: UpdateUserDraft): void => {
  const missing = missingForCreate(draft);
  if (missing.length === 0) return;
  const attributes = missing.map(({ attribute }) => attribute).join(', ');
  const fields = missing.map(({ field }) => field).join(', ');
  throw new AdapterError(
    'SCIM_INVALID_VALUE',
    `Creating a CIAM user needs ${attributes} (CIAM ${fields}); the request has none`,
  );
};

/** CreateUser for a mapped draft; CIAM requires the three names, empty when unknown. */
export const createRequestOf = (draft: UpdateUserDraft, password: string): CreateUserRequest => {
  const { UserStoreId, UserName, Email, PhoneNumber, ...rest } = draft;
  return {
    ...rest,
    UserStoreId,
    UserName: UserName ?? '',
    Email: Email ?? '',
    PhoneNumber: PhoneNumber ?? '',
    Password: password,
  };
};
