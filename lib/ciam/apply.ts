import type { UserChange } from '../change.ts';
import { isAdapterError } from '../errors.ts';
import type { ResolvableConnection, UserResolver } from './resolve.ts';
import type { CallOptions, CiamApi, UpdateUserDraft } from './types.ts';

/** A change that passed mapping: ready to be applied once its CIAM user is known. */
export interface PlannedUpdate {
  change: UserChange;
  draft: UpdateUserDraft;
}

export interface AppliedUpdate {
  eventId: string;
  userId: string;
  requestId: string;
}

export interface ApplyDeps {
  ciam: Pick<CiamApi, 'updateUser'>;
  resolver: UserResolver;
}

/**
 * Resolves the CIAM user and sends UpdateUser. When CIAM no longer knows a user we had cached
 * (deleted and re-created, say), the lookup is redone once before giving up.
 */
export const applyUpdate = async (
  deps: ApplyDeps,
  connection: ResolvableConnection,
  planned: PlannedUpdate,
  options: CallOptions = {},
): Promise<AppliedUpdate> => {
  const { change, draft } = planned;
  const send = async (userId: string): Promise<AppliedUpdate> => {
    const response = await deps.ciam.updateUser({ ...draft, UserId: userId }, options);
    return { eventId: change.eventId, userId, requestId: response.RequestId };
  };

  const userId = await deps.resolver.resolve(connection, change, options);
  try {
    return await send(userId);
  } catch (error) {
    if (!isAdapterError(error) || error.code !== 'USER_NOT_FOUND') throw error;
    deps.resolver.forget(connection, change);
    const again = await deps.resolver.resolve(connection, change, options);
    if (again === userId) throw error;
    return send(again);
  }
};
