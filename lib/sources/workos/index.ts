import type { Connection } from '../../config/types.ts';
import { readSigningSecrets } from '../shared/crypto.ts';
import { assertPayload, type PayloadValidator, readOptions } from '../shared/validation.ts';
import { header } from '../shared/values.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import {
  validateOptions,
  validateWorkosEvent,
  validateWorkosUser,
  WORKOS_DEFAULTS,
  type WorkosDelivery,
  type WorkosDirectoryUser,
  type WorkosEvent,
  workosOptionsSchema,
} from './schema.ts';
import { verifyWorkos, WORKOS_SIGNATURE_HEADER } from './signature.ts';
import { workosUserToChange } from './to-changes.ts';

/** The payload validators a connection runs: the event, then its directory user for handled types. */
export interface WorkosValidators {
  event: PayloadValidator<WorkosEvent>;
  user: PayloadValidator<WorkosDirectoryUser>;
}

export const WORKOS_VALIDATORS: WorkosValidators = {
  event: validateWorkosEvent,
  user: validateWorkosUser,
};

const prepare = (
  connection: Connection,
  { event: validateEvent, user: validateUser } = WORKOS_VALIDATORS,
): PreparedSource<WorkosDelivery> => {
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
      assertPayload(validateUser, payload.data, '/data');
      return { event: payload, user: payload.data };
    },

    async toChanges({ event, user }, _request, context) {
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
