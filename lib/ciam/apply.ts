import type { IgnoredReason, UserChange } from '../change.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { mergeCustomAttributes } from './custom-attributes.ts';
import {
  clockFieldsOf,
  compactMemberships,
  encodeClocks,
  type FieldName,
  type FieldVerdict,
  MAX_CLOCKS_CHARS,
  type MembershipChange,
  planFieldWrite,
  planMemberships,
} from './field-clocks.ts';
import type { ResolvableConnection, UserResolver } from './resolve.ts';
import { clockOf, readClocks, type StaleGuard } from './stale-guard.ts';
import type {
  CallOptions,
  CiamApi,
  CiamUser,
  UpdateUserDraft,
  UpdateUserRequest,
} from './types.ts';

/** What applying needs of a change: who it is about, and when and as which event it happened. */
export type ChangeRef = Pick<UserChange, 'eventId' | 'eventType' | 'occurredAt' | 'subject'>;

/** A change that passed mapping: ready to be applied once its CIAM user is known. */
export interface PlannedUpdate {
  change: ChangeRef;
  draft: UpdateUserDraft;
  /** Group memberships the change sets, by CIAM group id, each merged into the user's groups. */
  memberships?: readonly MembershipChange[];
}

/**
 * Membership clocks older than this are folded into one floor clock (compactMemberships), so a
 * user in many groups keeps a short encoding. 30 days: longer than any path a change can take to
 * arrive: the longest sender retry schedule (Standard Webhooks' example, about 3 days), then up
 * to 4 days in the queue and 14 in the dead-letter queue before a redrive.
 */
export const MEMBERSHIP_HORIZON_MS = 30 * 24 * 60 * 60 * 1000;

export interface AppliedUpdate {
  /** `partial`: some of the fields the change carried were newer than the user's, some not. */
  status: 'applied' | 'partial';
  eventId: string;
  userId: string;
  requestId: string;
  /** With the stale-event guard: the fields written, and those skipped with the reason. */
  fields?: FieldName[];
  skipped?: SkippedField[];
  /** Coalesced writes: fields this change set that a later change of the same write overtook. */
  superseded?: FieldName[];
  /**
   * An earlier attempt of this write timed out or lost its connection and may still land later,
   * over a newer change. Queued delivery holds the user's group until it must have landed.
   */
  lateWritePossible?: true;
}

export interface SkippedField {
  field: FieldName;
  verdict: Exclude<FieldVerdict, 'newer'>;
}

/**
 * Not written: for every field it carried, the user already holds this change (`duplicate`), a
 * newer one (`stale`), or one from a connection that ranks higher (`not_authoritative`).
 */
export interface SkippedUpdate {
  status: 'ignored';
  eventId: string;
  userId: string;
  reason: Extract<IgnoredReason, 'stale' | 'duplicate' | 'not_authoritative'>;
  skipped?: SkippedField[];
}

export type ApplyResult = AppliedUpdate | SkippedUpdate;

export type ApplyTarget = ResolvableConnection & { guard?: StaleGuard | undefined };

/** Runs `task` with no other task of the same key running (inside this instance). */
export type KeyedLock = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export interface ApplyDeps {
  ciam: Pick<CiamApi, 'updateUser' | 'describeUserById'>;
  resolver: UserResolver;
  /** Serialises read-check-write per user; queued mode gets the same from FIFO groups. */
  lock?: KeyedLock;
}

const unlocked: KeyedLock = (_key, task) => task();

/** A change that set nothing: a redelivery is a duplicate, else the first reason that held. */
const skipReason = (skipped: readonly SkippedField[]): SkippedUpdate['reason'] => {
  if (skipped.some(({ verdict }) => verdict === 'duplicate')) return 'duplicate';
  if (skipped.some(({ verdict }) => verdict === 'stale')) return 'stale';
  return 'not_authoritative';
};

const userNotFound = () =>
  new AdapterError('USER_NOT_FOUND', 'The CIAM user no longer exists', {
    details: { resolveBy: 'userId' },
  });

/** The user as CIAM holds it now; USER_NOT_FOUND when it no longer exists. */
export const readUser = async (
  deps: Pick<ApplyDeps, 'ciam'>,
  target: Pick<ApplyTarget, 'userStoreId'>,
  userId: string,
  options: CallOptions,
): Promise<CiamUser> => {
  const { User } = await deps.ciam.describeUserById(
    { UserStoreId: target.userStoreId, UserId: userId },
    options,
  );
  if (User === null || User === undefined) throw userNotFound();
  return User;
};

/** Outcome of an UpdateUser call that may have had an attempt go unanswered. */
const sendUpdate = async (
  deps: ApplyDeps,
  request: UpdateUserRequest,
  options: CallOptions,
): Promise<{ requestId: string; uncertain: boolean }> => {
  let uncertain = false;
  try {
    const callOptions: CallOptions = {
      onUncertainAttempt: () => {
        uncertain = true;
      },
    };
    if (options.signal !== undefined) callOptions.signal = options.signal;
    const response = await deps.ciam.updateUser(request, callOptions);
    return { requestId: response.RequestId, uncertain };
  } catch (error) {
    // An attempt went unanswered (timed out, lost its connection, or was cut off by the
    // deadline) and may land yet. Whatever the last error said, the write's fate is unknown:
    // acknowledging it now would let that late attempt overwrite the user's next change.
    if (!uncertain || (isAdapterError(error) && error.code === 'USER_NOT_FOUND')) throw error;
    throw new AdapterError(
      'UPSTREAM_OUTCOME_UNKNOWN',
      'UpdateUser failed after an attempt whose outcome is unknown',
      { cause: error, expose: true },
    );
  }
};

/**
 * What one change would write to a user, decided without any I/O: the exact UpdateUser request,
 * or why nothing is sent. applyUpdate sends what this returns, and `npm run explain` shows it, so
 * the two can never disagree.
 */
export type WritePlan =
  | {
      action: 'write';
      request: UpdateUserRequest;
      /** `partial`: some carried fields were written, some skipped. */
      status: AppliedUpdate['status'];
      /** With the stale-event guard: the fields written, and those skipped with the reason. */
      fields?: FieldName[];
      skipped?: SkippedField[];
    }
  | {
      action: 'skip';
      reason: SkippedUpdate['reason'];
      skipped: SkippedField[];
    };

/**
 * Whether applying the change reads the user first: to check the field clocks, to merge custom
 * attributes (UpdateUser replaces the whole list) or to merge group memberships.
 */
export const needsUserRead = (target: ApplyTarget, planned: PlannedUpdate): boolean =>
  target.guard !== undefined ||
  planned.draft.CustomizationAttributes !== undefined ||
  (planned.memberships ?? []).length > 0;

const guardedClock = (target: ApplyTarget, change: ChangeRef) => {
  const clock = target.guard === undefined ? undefined : clockOf(target.guard, change);
  if (target.guard !== undefined && clock === undefined) {
    // Sources always set an ISO time; a bad one here is our bug, not the sender's.
    throw new AdapterError('INTERNAL', 'The change has no valid occurredAt');
  }
  return clock;
};

/**
 * The user's clocks as written: memberships older than the horizon (counted back from the newest
 * change written) folded into the floor, then encoded; CLOCKS_TOO_LONG when they still do not fit.
 */
const encodeWithinLimit = (clocks: Parameters<typeof compactMemberships>[0], newestAt: number) => {
  const encoded = encodeClocks(compactMemberships(clocks, newestAt - MEMBERSHIP_HORIZON_MS));
  if (encoded.length > MAX_CLOCKS_CHARS) {
    throw new AdapterError(
      'CLOCKS_TOO_LONG',
      `The user's field clocks would need ${encoded.length} characters`,
      { details: { maxChars: MAX_CLOCKS_CHARS } },
    );
  }
  return encoded;
};

/**
 * The write one change makes to user `userId`, as it is now (`user`: what DescribeUserById
 * returned, or undefined when {@link needsUserRead} says no read is needed). Pure: the same inputs
 * give the same request, byte for byte once serialised.
 */
export const planWrite = (
  target: ApplyTarget,
  planned: PlannedUpdate,
  userId: string,
  user: CiamUser | undefined,
): WritePlan => {
  const { change, draft } = planned;
  const memberships = planned.memberships ?? [];
  const guard = target.guard;
  const clock = guardedClock(target, change);
  if (needsUserRead(target, planned) && user === undefined) {
    throw new AdapterError('INTERNAL', 'The write needs the user as CIAM holds it');
  }
  if (guard !== undefined && clock !== undefined && user !== undefined) {
    const current = readClocks(user.CustomAttributes, guard, clockFieldsOf(draft));
    const fieldPlan = planFieldWrite(draft, clock, current, guard.authorityOf);
    const groupPlan = planMemberships(
      memberships,
      clock,
      fieldPlan.clocks,
      guard.authorityOf,
      user.UserGroups ?? [],
    );
    const written = [...fieldPlan.written, ...groupPlan.written];
    const skipped = [...fieldPlan.skipped, ...groupPlan.skipped];
    if (written.length === 0) return { action: 'skip', reason: skipReason(skipped), skipped };
    const encoded = encodeWithinLimit(groupPlan.clocks, clock.at);
    // Object.assign, not `{ ...draft, UserId }`: a property added after a spread gives every
    // request object its own hidden class on Node 20 (V8 11), old-space garbage.
    const request: UpdateUserRequest = Object.assign({}, fieldPlan.draft, { UserId: userId });
    if (groupPlan.groups !== undefined) request.UserGroup = groupPlan.groups;
    request.CustomizationAttributes = mergeCustomAttributes(user.CustomAttributes, [
      ...(fieldPlan.draft.CustomizationAttributes ?? []),
      { Name: guard.attribute, Value: encoded, Type: guard.type },
    ]);
    if (skipped.length === 0)
      return { action: 'write', request, status: 'applied', fields: written };
    return { action: 'write', request, status: 'partial', fields: written, skipped };
  }
  const request: UpdateUserRequest = Object.assign({}, draft, { UserId: userId });
  if (user !== undefined) {
    request.CustomizationAttributes = mergeCustomAttributes(
      user.CustomAttributes,
      draft.CustomizationAttributes ?? [],
    );
    if (memberships.length > 0) {
      // No clocks: each membership applies as it comes, still merged into the user's groups.
      const groups = new Set(user.UserGroups ?? []);
      for (const { groupId, member } of memberships) {
        if (member) groups.add(groupId);
        else groups.delete(groupId);
      }
      request.UserGroup = [...groups];
    }
  }
  return { action: 'write', request, status: 'applied' };
};

/**
 * Resolves the CIAM user and sends UpdateUser. When the connection guards order, or the change
 * writes custom attributes, the user is read first: a change older than (or the same as) the last
 * one applied is skipped, and custom attributes are merged so none is dropped. When CIAM no longer
 * knows a user we had cached (deleted and re-created, say), the lookup is redone once. What is
 * sent is decided by {@link planWrite}.
 */
export const applyUpdate = async (
  deps: ApplyDeps,
  target: ApplyTarget,
  planned: PlannedUpdate,
  options: CallOptions = {},
): Promise<ApplyResult> => {
  const { change } = planned;
  const lock = deps.lock ?? unlocked;
  // Before any call: a change without a valid time fails at once.
  guardedClock(target, change);
  const needsRead = needsUserRead(target, planned);

  const attempt = (userId: string): Promise<ApplyResult> =>
    lock(`${target.userStoreId}\u0000${userId}`, async () => {
      const user = needsRead ? await readUser(deps, target, userId, options) : undefined;
      const plan = planWrite(target, planned, userId, user);
      if (plan.action === 'skip') {
        return {
          status: 'ignored',
          eventId: change.eventId,
          userId,
          reason: plan.reason,
          skipped: plan.skipped,
        };
      }
      const sent = await sendUpdate(deps, plan.request, options);
      return {
        status: plan.status,
        eventId: change.eventId,
        userId,
        requestId: sent.requestId,
        ...(plan.fields === undefined ? {} : { fields: plan.fields }),
        ...(plan.skipped === undefined ? {} : { skipped: plan.skipped }),
        ...(sent.uncertain ? { lateWritePossible: true as const } : {}),
      };
    });

  const userId = await deps.resolver.resolve(target, change, options);
  try {
    return await attempt(userId);
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
    deps.resolver.forget(target, change);
    const again = await deps.resolver.resolve(target, change, options);
    if (again === userId) throw error;
    return attempt(again);
  }
};

/** An in-process keyed mutex: tasks of one key run one after another, in arrival order. */
export const createKeyedLock = (): KeyedLock => {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, task) => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      // Drop the entry once nobody queued behind us, so the map stays as small as the in-flight set.
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
};

/** A change of a coalesced write whose every field a later change of the same write overtook. */
export interface SupersededUpdate {
  status: 'superseded';
  eventId: string;
  userId: string;
  /** The write that carried the later changes. */
  requestId: string;
  /** The fields it would have set, each now holding a later change's value. */
  superseded: FieldName[];
  lateWritePossible?: true;
}

/** What became of one change of {@link applyUpdates}. */
export type BatchApplyResult = ApplyResult | SupersededUpdate;

/** What a coalesced write does with one of its changes (see {@link planBatchWrite}). */
export interface BatchEntryPlan {
  eventId: string;
  /** Fields the change set that the write holds its value for. */
  kept: FieldName[];
  /** Fields it set that a later change of the same write overtook. */
  overtaken: FieldName[];
  skipped: SkippedField[];
}

/** A coalesced write: the one request (undefined when no change sets anything), one entry each. */
export interface BatchWritePlan {
  request: UpdateUserRequest | undefined;
  entries: BatchEntryPlan[];
}

const clocksOfBatch = (guard: StaleGuard, planned: readonly PlannedUpdate[]) =>
  planned.map(({ change }) => {
    const clock = clockOf(guard, change);
    if (clock === undefined)
      throw new AdapterError('INTERNAL', 'The change has no valid occurredAt');
    return clock;
  });

/**
 * The one write several changes to one user make, as {@link applyUpdates} sends it, decided
 * without I/O from the user as CIAM holds it now.
 */
export const planBatchWrite = (
  target: ApplyTarget,
  planned: readonly PlannedUpdate[],
  userId: string,
  user: CiamUser,
): BatchWritePlan => {
  const guard = target.guard;
  if (guard === undefined || planned.length === 0) {
    throw new AdapterError('INTERNAL', 'Coalescing needs the stale-event guard and a change');
  }
  const clocks = clocksOfBatch(guard, planned);
  let current = readClocks(
    user.CustomAttributes,
    guard,
    planned.flatMap(({ draft }) => clockFieldsOf(draft)),
  );
  let groups: readonly string[] = user.UserGroups ?? [];
  let groupsChanged = false;
  const draft: Record<string, unknown> = {};
  const custom = new Map<string, NonNullable<UpdateUserDraft['CustomizationAttributes']>[number]>();
  // Which change's value each written field ends up holding.
  const owner = new Map<FieldName, number>();
  let newest = Number.NEGATIVE_INFINITY;
  const plans = planned.map(({ draft: carried, memberships }, index) => {
    const clock = clocks[index] as (typeof clocks)[number];
    const fieldPlan = planFieldWrite(carried, clock, current, guard.authorityOf);
    const groupPlan = planMemberships(
      memberships ?? [],
      clock,
      fieldPlan.clocks,
      guard.authorityOf,
      groups,
    );
    const written = [...fieldPlan.written, ...groupPlan.written];
    const skipped = [...fieldPlan.skipped, ...groupPlan.skipped];
    if (written.length > 0) {
      // As applyUpdate: a change that sets no clocked field sends nothing, unclocked ones too.
      current = groupPlan.clocks;
      if (groupPlan.groups !== undefined) {
        groups = groupPlan.groups;
        groupsChanged = true;
      }
      for (const [key, value] of Object.entries(fieldPlan.draft)) {
        if (key !== 'CustomizationAttributes') draft[key] = value;
      }
      for (const item of fieldPlan.draft.CustomizationAttributes ?? []) custom.set(item.Name, item);
      for (const field of written) owner.set(field, index);
      newest = Math.max(newest, clock.at);
    }
    return { written, skipped };
  });
  const entries = plans.map(({ written, skipped }, index) => ({
    eventId: (planned[index] as PlannedUpdate).change.eventId,
    kept: written.filter((field) => owner.get(field) === index),
    overtaken: written.filter((field) => owner.get(field) !== index),
    skipped,
  }));
  if (owner.size === 0) return { request: undefined, entries };

  const encoded = encodeWithinLimit(current, newest);
  const request = Object.assign({}, draft, { UserId: userId }) as UpdateUserRequest;
  if (groupsChanged) request.UserGroup = [...groups];
  request.CustomizationAttributes = mergeCustomAttributes(user.CustomAttributes, [
    ...custom.values(),
    { Name: guard.attribute, Value: encoded, Type: guard.type },
  ]);
  return { request, entries };
};

/**
 * Several changes to ONE user, oldest queued first, applied as one DescribeUserById and at most
 * one UpdateUser. Each change is folded through the same per-field rule as applyUpdate, against
 * the clocks as the changes before it left them: per field the newest change by its clock wins,
 * a change already recorded (on the user or earlier in the same list) is a duplicate, and a
 * change whose every field a later one of the list overtook is `superseded`. One result per
 * change, in order. Needs the stale-event guard: without clocks there is nothing that makes
 * merging safe. Throws when the read or the write fails: then none of the changes is applied.
 * What is sent is decided by {@link planBatchWrite}.
 */
export const applyUpdates = async (
  deps: ApplyDeps,
  target: ApplyTarget,
  planned: readonly PlannedUpdate[],
  options: CallOptions = {},
): Promise<BatchApplyResult[]> => {
  const guard = target.guard;
  const first = planned[0];
  if (guard === undefined || first === undefined) {
    throw new AdapterError('INTERNAL', 'Coalescing needs the stale-event guard and a change');
  }
  // Before any call: a change without a valid time fails at once.
  clocksOfBatch(guard, planned);
  const lock = deps.lock ?? unlocked;

  const attempt = (userId: string): Promise<BatchApplyResult[]> =>
    lock(`${target.userStoreId}\u0000${userId}`, async () => {
      const user = await readUser(deps, target, userId, options);
      const { request, entries } = planBatchWrite(target, planned, userId, user);
      const ignored = ({ eventId, skipped }: BatchEntryPlan): SkippedUpdate => ({
        status: 'ignored',
        eventId,
        userId,
        reason: skipReason(skipped),
        skipped,
      });
      if (request === undefined) return entries.map(ignored);
      const { requestId, uncertain } = await sendUpdate(deps, request, options);
      const late = uncertain ? { lateWritePossible: true as const } : {};
      return entries.map((entry): BatchApplyResult => {
        const { eventId, kept, overtaken, skipped } = entry;
        if (kept.length === 0 && overtaken.length === 0) return ignored(entry);
        if (kept.length === 0) {
          return {
            status: 'superseded',
            eventId,
            userId,
            requestId,
            superseded: overtaken,
            ...late,
          };
        }
        return {
          status: skipped.length > 0 ? 'partial' : 'applied',
          eventId,
          userId,
          requestId,
          fields: kept,
          ...(skipped.length > 0 ? { skipped } : {}),
          ...(overtaken.length > 0 ? { superseded: overtaken } : {}),
          ...late,
        };
      });
    });

  const userId = await deps.resolver.resolve(target, first.change, options);
  try {
    return await attempt(userId);
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
    deps.resolver.forget(target, first.change);
    const again = await deps.resolver.resolve(target, first.change, options);
    if (again === userId) throw error;
    return attempt(again);
  }
};
