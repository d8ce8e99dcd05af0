import type { SourceMembership, UserChange } from '../change.ts';
import type { GroupResolver } from '../ciam/groups.ts';
import type { Connection } from '../config/types.ts';
import { AdapterError } from '../errors.ts';

/** A membership by CIAM group id, as PlannedUpdate carries it. */
export interface CiamMembership {
  groupId: string;
  member: boolean;
}

export type MembershipMapping =
  | { status: 'mapped'; memberships: CiamMembership[] }
  /** A group mapped to nothing, on a connection that ignores those. */
  | { status: 'unmapped' };

export type MapMemberships = (
  change: UserChange,
  signal?: AbortSignal,
) => Promise<MembershipMapping>;

const describe = ({ group }: SourceMembership): Record<string, string> => ({
  ...(group.id === undefined ? {} : { id: group.id }),
  ...(group.name === undefined ? {} : { name: group.name }),
});

/**
 * Binds one connection's `groups` setting: each source group becomes a CIAM group id by the
 * explicit `map` (its id first, then its name), else the user store's group of the same name.
 * Without a resolver (a test, or a caller that only maps explicitly) only `map` answers.
 * Throws AdapterError GROUP_NOT_MAPPED (422) for a group mapped to nothing when the connection
 * refuses those; otherwise answers `unmapped` and the change is ignored as `group_not_mapped`.
 */
export const membershipMapper = (
  connection: Connection,
  resolver: GroupResolver | undefined,
): MapMemberships => {
  const map = new Map(Object.entries(connection.groups?.map ?? {}));
  const refuse = connection.groups?.unmapped === 'refuse';

  const ciamGroupOf = async (
    { group }: SourceMembership,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> => {
    const explicit =
      (group.id === undefined ? undefined : map.get(group.id)) ??
      (group.name === undefined ? undefined : map.get(group.name));
    if (explicit !== undefined) return explicit;
    if (resolver === undefined || group.name === undefined || group.name === '') return undefined;
    return resolver.byName(
      connection.userStoreId,
      group.name,
      signal === undefined ? undefined : { signal },
    );
  };

  return async (change, signal) => {
    const memberships: CiamMembership[] = [];
    for (const membership of change.memberships ?? []) {
      const groupId = await ciamGroupOf(membership, signal);
      if (groupId === undefined) {
        if (!refuse) return { status: 'unmapped' };
        throw new AdapterError('GROUP_NOT_MAPPED', 'The source group maps to no CIAM user group', {
          details: { eventId: change.eventId, group: describe(membership) },
        });
      }
      memberships.push({ groupId, member: membership.member });
    }
    return { status: 'mapped', memberships };
  };
};
