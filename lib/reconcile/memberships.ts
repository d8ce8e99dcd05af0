import type { SourceMembership, UserChange } from '../change.ts';
import type { ApplyTarget } from '../ciam/apply.ts';
import {
  type Clock,
  groupField,
  MEMBERSHIP_FLOOR,
  type MembershipChange,
  verdictFor,
} from '../ciam/field-clocks.ts';
import type { GroupResolver } from '../ciam/groups.ts';
import { readClocks } from '../ciam/stale-guard.ts';
import type { CiamUser } from '../ciam/types.ts';
import type { Connection } from '../config/types.ts';
import { isAdapterError } from '../errors.ts';
import { type MapMemberships, membershipMapper } from '../webhook/groups.ts';
import type { HeldField, PlannedMembership } from './plan.ts';

/** A connection and its stale-event guard (the planner's ReconcileTarget). */
type Target = Connection & Pick<ApplyTarget, 'guard'>;

/** A source group as listings name it. */
export interface SourceGroup {
  id: string;
  name?: string;
}

/** A source group's reference in a membership: what `membershipMapper` maps it by. */
const refOf = (group: SourceGroup): SourceMembership['group'] =>
  group.name === undefined ? { id: group.id } : { id: group.id, name: group.name };

interface Mapped {
  groupId: string;
  /** The CIAM group's DisplayName, when the mapping went by it. */
  displayName?: string;
}

export interface UserMemberships {
  /** The memberships to change, naming the source groups (the snapshot change's `memberships`). */
  memberships: SourceMembership[];
  /** The same, by CIAM group, as the plan shows them. */
  shown: PlannedMembership[];
  /** Differing memberships whose clock holds a change at least as new: left as they are. */
  held: HeldField[];
}

/**
 * Plans one connection's group memberships from its source's listing, through the same mapping as
 * membership events (`membershipMapper`: `groups.map` by id, then name, then the CIAM group of the
 * same DisplayName), each source group mapped once per run. A listed user's groups are the whole
 * set, so the CIAM groups the connection maps to and the user is not in are adds; removals are
 * only ever of groups the connection MANAGES: the `groups.map` targets and the CIAM groups the
 * source's groups seen during this listing map to. A group nothing of this connection maps to
 * (another connection's, one a console admin gives) is never removed.
 */
export const createMembershipPlanner = (target: Target, resolver: GroupResolver | undefined) => {
  const mapMemberships: MapMemberships = membershipMapper(target, resolver);
  const explicit = new Set(Object.keys(target.groups?.map ?? {}));
  /** CIAM group id → the source group that maps to it: what a removal names. */
  const managed = new Map<string, { ref: SourceMembership['group']; mapped: Mapped }>();
  for (const [key, groupId] of Object.entries(target.groups?.map ?? {})) {
    // By id first, then name: `{ id: key }` maps to the same group either way.
    if (!managed.has(groupId)) managed.set(groupId, { ref: { id: key }, mapped: { groupId } });
  }
  const cache = new Map<string, Promise<Mapped | undefined>>();

  /** undefined: mapped to nothing (`unmapped: ignore`); throws GROUP_NOT_MAPPED under `refuse`. */
  const mapGroup = (group: SourceGroup, change: UserChange): Promise<Mapped | undefined> => {
    const key = `${group.id}\u0000${group.name ?? ''}`;
    let found = cache.get(key);
    if (found === undefined) {
      found = (async () => {
        const mapped = await mapMemberships({
          ...change,
          memberships: [{ group: refOf(group), member: true }],
        });
        const groupId = mapped.status === 'mapped' ? mapped.memberships[0]?.groupId : undefined;
        if (groupId === undefined) return undefined;
        const byName =
          group.name !== undefined && !explicit.has(group.id) && !explicit.has(group.name);
        const found: Mapped = byName ? { groupId, displayName: group.name as string } : { groupId };
        if (managed.get(groupId)?.mapped.displayName === undefined) {
          managed.set(groupId, { ref: refOf(group), mapped: found });
        }
        return found;
      })();
      // A failure (CIAM unreachable, a refused group) is not kept: the next user asks again.
      found.catch(() => cache.delete(key));
      cache.set(key, found);
    }
    return found;
  };

  return {
    /**
     * Learns the source's groups a page lists, so the groups they map to count as managed before
     * any user is planned. A group mapped to nothing is skipped here, even under `refuse`: only a
     * user in it is refused.
     */
    async learn(groups: readonly SourceGroup[], change: UserChange): Promise<void> {
      for (const group of groups) {
        try {
          await mapGroup(group, change);
        } catch (error) {
          if (!isAdapterError(error) || error.code !== 'GROUP_NOT_MAPPED') throw error;
        }
      }
    },

    /**
     * The membership changes a user's complete set of source groups asks of its CIAM user, judged
     * against the membership clocks as the consumer will (a newer membership change at CIAM is
     * held). Throws GROUP_NOT_MAPPED for a group mapped to nothing under `refuse`.
     */
    async plan(
      groups: readonly SourceGroup[],
      change: UserChange,
      user: CiamUser,
      clock: Clock | undefined,
    ): Promise<UserMemberships> {
      const wanted = new Map<string, { ref: SourceMembership['group']; mapped: Mapped }>();
      for (const group of groups) {
        const mapped = await mapGroup(group, change);
        if (mapped !== undefined && !wanted.has(mapped.groupId)) {
          wanted.set(mapped.groupId, { ref: refOf(group), mapped });
        }
      }
      const now = new Set(user.UserGroups ?? []);
      const differing: { ref: SourceMembership['group']; shown: PlannedMembership }[] = [];
      const shownOf = ({ groupId, displayName }: Mapped, member: boolean): PlannedMembership => ({
        group: displayName === undefined ? { id: groupId } : { id: groupId, name: displayName },
        member,
      });
      for (const [groupId, { ref, mapped }] of wanted) {
        if (!now.has(groupId)) differing.push({ ref, shown: shownOf(mapped, true) });
      }
      for (const [groupId, { ref, mapped }] of managed) {
        if (now.has(groupId) && !wanted.has(groupId)) {
          differing.push({ ref, shown: shownOf(mapped, false) });
        }
      }
      const result: UserMemberships = { memberships: [], shown: [], held: [] };
      const guard = target.guard;
      const clocks =
        guard === undefined || clock === undefined
          ? undefined
          : readClocks(user.CustomAttributes, guard, []);
      for (const { ref, shown } of differing) {
        if (guard !== undefined && clocks !== undefined && clock !== undefined) {
          const held = clocks.get(groupField(shown.group.id)) ?? clocks.get(MEMBERSHIP_FLOOR);
          const verdict = verdictFor(clock, held, guard.authorityOf('UserGroup'));
          if (verdict !== 'newer') {
            result.held.push({ field: `group:${shown.group.name ?? shown.group.id}`, verdict });
            continue;
          }
        }
        result.memberships.push({ group: ref, member: shown.member });
        result.shown.push(shown);
      }
      return result;
    },
  };
};

export type MembershipPlanner = ReturnType<typeof createMembershipPlanner>;

/**
 * The CIAM memberships a plan entry's snapshot change sets, mapped again as it is applied (the
 * mapping, or CIAM's groups, may have changed since the plan was made), one membership at a time:
 * - an addition whose group now maps to nothing follows the connection's `groups.unmapped`:
 *   dropped with `ignore`, GROUP_NOT_MAPPED with `refuse` (the user's whole change is reported
 *   and not queued, as a webhook with that group would be refused);
 * - a removal whose group now maps to nothing is dropped either way: there is no CIAM group left
 *   to take the user out of (or the connection no longer manages it), and failing would also hold
 *   back the user's field changes.
 */
export const plannedMembershipMapper = (
  target: Target,
  resolver: GroupResolver | undefined,
): ((change: UserChange, signal?: AbortSignal) => Promise<MembershipChange[]>) => {
  const lenient = membershipMapper(
    { ...target, groups: { ...target.groups, unmapped: 'ignore' } },
    resolver,
  );
  const strict = membershipMapper(
    { ...target, groups: { ...target.groups, unmapped: 'refuse' } },
    resolver,
  );
  const refuse = target.groups?.unmapped === 'refuse';
  return async (change, signal) => {
    const memberships: MembershipChange[] = [];
    for (const membership of change.memberships ?? []) {
      const one = { ...change, memberships: [membership] };
      const mapped = await lenient(one, signal);
      if (mapped.status === 'mapped') {
        memberships.push(...mapped.memberships);
        continue;
      }
      // Throws GROUP_NOT_MAPPED with the group named, as the webhook path answers it.
      if (membership.member && refuse) await strict(one, signal);
    }
    return memberships;
  };
};
