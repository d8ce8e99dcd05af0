// The pure parts of SCIM Groups (RFC 7643 §4.2) over CIAM user groups: reading a PATCH or PUT
// into member steps, folding them into the membership changes to write, the group filter, and the
// rendered Group. No CIAM calls: lib/scim/groups.ts does those.

import type { CiamUser, UserGroup } from '../ciam/types.ts';
import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { parseFilter } from './filter.ts';
import type { ScimObject } from './patch.ts';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/**
 * How many members one PATCH or PUT may name, when the connection does not say. About 150 added
 * members fit in API Gateway's 30 s at CIAM's 20 calls/s (three calls each); 100 leaves room.
 */
export const DEFAULT_MAX_GROUP_MEMBERS = 100;

/** One member operation, in request order: ids are SCIM User ids, i.e. CIAM UserIds. */
export type MemberStep =
  | { op: 'add'; members: string[] }
  | { op: 'remove'; members: string[] }
  /** The group's members become exactly these (a `replace`, a PUT, or `remove` of all). */
  | { op: 'replace'; members: string[] };

export interface GroupPatchPlan {
  steps: MemberStep[];
  /**
   * A `displayName` the request asked for. CIAM's group is never renamed (groups are managed in
   * the CIAM console), so this is only read, never written.
   */
  displayName?: string;
}

export interface MembershipChange {
  userId: string;
  member: boolean;
}

const syntax = (detail: string) => new AdapterError('SCIM_INVALID_SYNTAX', detail);
const invalidValue = (detail: string) => new AdapterError('SCIM_INVALID_VALUE', detail);
const invalidPath = (detail: string) => new AdapterError('SCIM_INVALID_PATH', detail);

/** `[{ value: "id" }, …]` (a single object is read as a list of one) to the ids it names. */
export const memberIdsOf = (value: unknown, where: string): string[] => {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, index) => {
    const id = isRecord(item) ? item.value : undefined;
    if (typeof id !== 'string' || id.trim() === '') {
      throw invalidValue(`${where}[${index}] needs a member value (the user's id)`);
    }
    return id;
  });
};

/** `members[value eq "id"]`: the id it names. Anything else under members is refused. */
const MEMBER_FILTER = /^members\[(.*)\]$/is;
const memberOfPath = (path: string): string => {
  const inner = MEMBER_FILTER.exec(path)?.[1];
  if (inner === undefined) throw invalidPath(`Unsupported path ${path}`);
  const filter = parseFilter(inner);
  if (
    filter.op !== 'eq' ||
    filter.attrPath.toLowerCase() !== 'value' ||
    typeof filter.compValue !== 'string'
  ) {
    throw invalidPath('A members filter must be value eq "<user id>"');
  }
  return filter.compValue;
};

/** Path-less keys that name the group itself or its metadata: read, never written. */
const IGNORED_KEYS = new Set(['schemas', 'meta', 'id', 'externalid']);

const valueObjectSteps = (
  op: 'add' | 'replace',
  value: unknown,
  index: number,
  plan: GroupPatchPlan,
) => {
  if (!isRecord(value)) throw invalidValue(`Operations[${index}] without a path needs an object`);
  for (const [key, inner] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (lower === 'members') {
      plan.steps.push({ op, members: memberIdsOf(inner, `Operations[${index}].value.members`) });
    } else if (lower === 'displayname') {
      if (typeof inner !== 'string') throw invalidValue('displayName must be a string');
      plan.displayName = inner;
    } else if (!IGNORED_KEYS.has(lower)) {
      throw invalidPath(`Groups have no attribute ${key} that can be changed`);
    }
  }
};

/**
 * Reads a PatchOp on a Group, before any CIAM call: Entra's `Add`/`Remove` on `members` with a
 * value list, `Remove` with path `members[value eq "<id>"]`, `Replace` of `displayName`; Okta's
 * `replace` of the member list and path-less `replace` of `{ id, displayName }`. Ops are
 * case-insensitive. `externalId` is accepted and not kept (CIAM groups have no such field).
 */
export const parseGroupPatch = (body: unknown): GroupPatchPlan => {
  if (!isRecord(body)) throw syntax('The body must be a PatchOp object');
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw syntax('Operations must be a non-empty array');
  }
  const plan: GroupPatchPlan = { steps: [] };
  for (const [index, operation] of operations.entries()) {
    if (!isRecord(operation) || typeof operation.op !== 'string') {
      throw syntax(`Operations[${index}] needs an op`);
    }
    const op = operation.op.trim().toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw syntax(`Operations[${index}] has an unknown op`);
    }
    const rawPath = operation.path;
    if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string') {
      throw invalidPath(`Operations[${index}].path must be a string`);
    }
    const path = typeof rawPath === 'string' ? rawPath.trim() : '';
    if (path === '') {
      if (op === 'remove') throw invalidPath('remove needs a path');
      valueObjectSteps(op, operation.value, index, plan);
      continue;
    }
    const lower = path.toLowerCase();
    if (lower === 'members') {
      if (op === 'remove') {
        // RFC 7644 §3.5.2.2: a remove of the whole attribute with no value empties it.
        plan.steps.push(
          operation.value === undefined || operation.value === null
            ? { op: 'replace', members: [] }
            : { op: 'remove', members: memberIdsOf(operation.value, `Operations[${index}].value`) },
        );
      } else {
        if (operation.value === undefined) throw invalidValue(`Operations[${index}] needs a value`);
        plan.steps.push({
          op,
          members: memberIdsOf(operation.value, `Operations[${index}].value`),
        });
      }
    } else if (lower.startsWith('members[')) {
      if (op !== 'remove') throw invalidPath(`${op} of one member needs path members and a value`);
      plan.steps.push({ op: 'remove', members: [memberOfPath(path)] });
    } else if (lower === 'displayname') {
      if (op === 'remove') throw new AdapterError('SCIM_MUTABILITY', 'displayName is required');
      if (typeof operation.value !== 'string') throw invalidValue('displayName must be a string');
      plan.displayName = operation.value;
    } else if (lower === 'externalid') {
      // Not kept: CIAM groups have no field for it (docs/scim.md).
    } else {
      throw invalidPath(`Groups have no attribute ${path} that can be changed`);
    }
  }
  return plan;
};

/**
 * A PUT's Group: its member list as one `replace`. A PUT without `members` leaves them as they
 * are (a rename-only PUT must not empty the group); `members: []` empties it.
 */
export const parseGroupPut = (body: unknown, id: string): GroupPatchPlan => {
  if (!isRecord(body)) throw syntax('The body must be a Group object');
  if (body.id !== undefined && body.id !== id) {
    throw new AdapterError('SCIM_MUTABILITY', 'id cannot be changed');
  }
  const plan: GroupPatchPlan = { steps: [] };
  if (typeof body.displayName === 'string') plan.displayName = body.displayName;
  if (body.members !== undefined && body.members !== null) {
    if (!Array.isArray(body.members)) throw invalidValue('members must be a list');
    plan.steps.push({ op: 'replace', members: memberIdsOf(body.members, 'members') });
  }
  return plan;
};

/**
 * A POST body: the CIAM group it links to is found by `displayName`; its `members` are added
 * (linking never removes anyone a group already has).
 */
export const parseGroupPost = (body: unknown): { displayName: string; plan: GroupPatchPlan } => {
  if (!isRecord(body)) throw syntax('The body must be a Group object');
  if (typeof body.displayName !== 'string' || body.displayName.trim() === '') {
    throw invalidValue('displayName is required: it names the CIAM group to link to');
  }
  const plan: GroupPatchPlan = { steps: [] };
  if (body.members !== undefined && body.members !== null) {
    if (!Array.isArray(body.members)) throw invalidValue('members must be a list');
    plan.steps.push({ op: 'add', members: memberIdsOf(body.members, 'members') });
  }
  return { displayName: body.displayName, plan };
};

/** Whether folding the steps needs the group's current members (a replace does). */
export const needsCurrentMembers = (steps: readonly MemberStep[]): boolean =>
  steps.some((step) => step.op === 'replace');

/** Every distinct member the steps name, in first-named order. */
export const namedMembers = (steps: readonly MemberStep[]): string[] => [
  ...new Set(steps.flatMap((step) => step.members)),
];

/**
 * The membership changes the steps come to, one per user. Without the current members (only adds
 * and removes), each user's last step wins, in first-named order. With them, the steps fold over
 * the current set and the answer is the set difference: removals first, then additions, each in
 * the order named, and nothing for a user whose membership does not change.
 */
export const membershipChanges = (
  steps: readonly MemberStep[],
  current?: ReadonlySet<string>,
): MembershipChange[] => {
  if (current === undefined) {
    if (needsCurrentMembers(steps)) {
      throw new AdapterError('INTERNAL', 'A replace needs the current members');
    }
    const last = new Map<string, boolean>();
    for (const step of steps) for (const id of step.members) last.set(id, step.op === 'add');
    return [...last].map(([userId, member]) => ({ userId, member }));
  }
  const after = new Set(current);
  const order: string[] = [];
  for (const step of steps) {
    if (step.op === 'replace') after.clear();
    for (const id of step.members) {
      order.push(id);
      if (step.op === 'remove') after.delete(id);
      else after.add(id);
    }
  }
  const removals = [...current].filter((id) => !after.has(id));
  const additions = [...new Set(order)].filter((id) => after.has(id) && !current.has(id));
  return [
    ...removals.map((userId) => ({ userId, member: false })),
    ...additions.map((userId) => ({ userId, member: true })),
  ];
};

/** What a Groups filter asks CIAM for: one equality on id, displayName or externalId. */
export type GroupQuery =
  | { by: 'id'; value: string }
  | { by: 'displayName'; value: string }
  | { by: 'externalId'; value: string };

const GROUP_FILTER_ATTRIBUTES: Record<string, GroupQuery['by']> = {
  id: 'id',
  displayname: 'displayName',
  externalid: 'externalId',
};

export const groupQueryOf = (text: string): GroupQuery => {
  const filter = parseFilter(text);
  const lower = filter.op === 'eq' ? filter.attrPath.toLowerCase() : '';
  const by = GROUP_FILTER_ATTRIBUTES[lower.replace(`${GROUP_SCHEMA.toLowerCase()}:`, '')];
  if (filter.op !== 'eq' || by === undefined) {
    throw new AdapterError(
      'SCIM_INVALID_FILTER',
      'Groups are filtered only with eq on id, displayName or externalId',
    );
  }
  if (typeof filter.compValue !== 'string' || filter.compValue === '') {
    throw new AdapterError(
      'SCIM_INVALID_FILTER',
      `${filter.attrPath} must be compared with a string`,
    );
  }
  return { by, value: filter.compValue };
};

const isoOf = (epochMs: number | undefined) =>
  typeof epochMs === 'number' && Number.isFinite(epochMs)
    ? new Date(epochMs).toISOString()
    : undefined;

export const renderMember = (user: CiamUser, base: string) => ({
  value: user.UserId ?? '',
  $ref: `${base}/Users/${user.UserId ?? ''}`,
  display: user.UserName ?? user.Nickname ?? user.UserId ?? '',
});

/** A CIAM group as a SCIM Group; `members` only when they were read. */
export const renderGroup = (
  group: UserGroup & { CreatedDate?: number; LastModifyDate?: number },
  base: string,
  members?: readonly CiamUser[],
): ScimObject => {
  const created = isoOf(group.CreatedDate);
  const lastModified = isoOf(group.LastModifyDate);
  return {
    schemas: [GROUP_SCHEMA],
    id: group.UserGroupId,
    displayName: group.DisplayName ?? group.UserGroupId,
    ...(members === undefined ? {} : { members: members.map((m) => renderMember(m, base)) }),
    meta: {
      resourceType: 'Group',
      location: `${base}/Groups/${group.UserGroupId}`,
      ...(created === undefined ? {} : { created }),
      ...(lastModified === undefined ? {} : { lastModified }),
    },
  };
};
