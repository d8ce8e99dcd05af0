import type { Connection } from '../../config/types.ts';
import { readSigningSecrets } from '../shared/crypto.ts';
import { assertPayload, type PayloadValidator, readOptions } from '../shared/validation.ts';
import { header } from '../shared/values.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import {
  validateOptions,
  validateWorkosEvent,
  validateWorkosGroup,
  validateWorkosGroupMembership,
  validateWorkosUser,
  WORKOS_DEFAULTS,
  WORKOS_GROUP_DELETED,
  WORKOS_MEMBERSHIP_EVENTS,
  type WorkosDelivery,
  type WorkosDirectoryGroup,
  type WorkosDirectoryUser,
  type WorkosEvent,
  type WorkosGroupMembership,
  workosOptionsSchema,
} from './schema.ts';
import { verifyWorkos, WORKOS_SIGNATURE_HEADER } from './signature.ts';
import { workosMembershipToChange, workosUserToChange } from './to-changes.ts';

/**
 * The payload validators a connection runs: the event, then for handled types its directory user,
 * its `{ user, group }` (membership events) or its group (`dsync.group.deleted`).
 */
export interface WorkosValidators {
  event: PayloadValidator<WorkosEvent>;
  user: PayloadValidator<WorkosDirectoryUser>;
  membership: PayloadValidator<WorkosGroupMembership>;
  group: PayloadValidator<WorkosDirectoryGroup>;
}

export const WORKOS_VALIDATORS: WorkosValidators = {
  event: validateWorkosEvent,
  user: validateWorkosUser,
  membership: validateWorkosGroupMembership,
  group: validateWorkosGroup,
};

const prepare = (
  connection: Connection,
  validators: WorkosValidators = WORKOS_VALIDATORS,
): PreparedSource<WorkosDelivery> => {
  const { event: validateEvent, user: validateUser } = validators;
  const options = readOptions(validateOptions, connection.options, connection.id);
  const toleranceSeconds = options.toleranceSeconds ?? WORKOS_DEFAULTS.toleranceSeconds;
  const eventTypes = new Set<string>(options.eventTypes ?? WORKOS_DEFAULTS.eventTypes);

  return {
    async authenticate(request, context) {
      const value = header(request, WORKOS_SIGNATURE_HEADER);
      verifyWorkos({
        header: value,
        rawBody: request.rawBody,
        secrets: value ? await readSigningSecrets(connection.secrets.signing, context.secrets) : [],
        nowMs: context.now(),
        toleranceSeconds,
      });
    },

    // The event id's length limit is part of the event schema.
    parse(payload) {
      assertPayload(validateEvent, payload);
      // Only handled event types must carry a directory user (dsync.group.* carry groups).
      if (!eventTypes.has(payload.event)) return { event: payload };
      const member = WORKOS_MEMBERSHIP_EVENTS[payload.event];
      if (member !== undefined) {
        assertPayload(validators.membership, payload.data, '/data');
        const { user, group } = payload.data;
        return { event: payload, user, membership: { group, member } };
      }
      if (payload.event === WORKOS_GROUP_DELETED) {
        assertPayload(validators.group, payload.data, '/data');
        return { event: payload, noUser: true };
      }
      assertPayload(validateUser, payload.data, '/data');
      return { event: payload, user: payload.data };
    },

    async toChanges({ event, user, membership, noUser }, _request, context) {
      // A deleted group's event carries the group alone, not its members, so it names nobody to
      // take the group from; WorkOS sends `dsync.group.user_removed` for members it removes.
      if (noUser === true) {
        return {
          changes: [],
          ignored: [{ eventId: event.id, eventType: event.event, reason: 'no_user_in_event' }],
        };
      }
      if (user !== undefined && membership !== undefined) {
        const change = workosMembershipToChange({
          connectionId: connection.id,
          event,
          user,
          group: membership.group,
          member: membership.member,
          deliveredAtMs: context.now(),
        });
        return { changes: [change], ignored: [] };
      }
      if (user === undefined) {
        return {
          changes: [],
          ignored: [
            { eventId: event.id, eventType: event.event, reason: 'event_type_not_handled' },
          ],
        };
      }
      const change = workosUserToChange({
        connectionId: connection.id,
        event,
        user,
        deliveredAtMs: context.now(),
      });
      return { changes: [change], ignored: [] };
    },
  };
};

/** WorkOS Directory Sync webhooks (`WorkOS-Signature`, timestamps in ms). */
export const workosSource: SourceDefinition<WorkosDelivery, WorkosValidators> = {
  type: 'workos',
  optionsSchema: workosOptionsSchema,
  prepare,
};
