import type { Connection } from '../../config/types.ts';
import { SignatureError } from '../../errors.ts';
import { readSigningSecrets } from '../shared/crypto.ts';
import { checkSenderId } from '../shared/sender-id.ts';
import { assertPayload, type PayloadValidator, readOptions } from '../shared/validation.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import {
  CLERK_MEMBERSHIP_EVENTS,
  type ClerkEvent,
  type ClerkOrganizationMembership,
  type ClerkUser,
  STANDARD_WEBHOOKS_DEFAULTS,
  type StandardWebhooksDelivery,
  standardWebhooksOptionsSchema,
  validateClerkEvent,
  validateClerkOrganizationMembership,
  validateClerkUser,
  validateOptions,
} from './schema.ts';
import { readStandardWebhookHeaders, verifyStandardWebhook } from './signature.ts';
import { clerkMembershipToChange, clerkUserToChange } from './to-changes.ts';

const TIMESTAMP = /^\d{1,15}$/;

/**
 * The payload validators a connection runs: the Clerk event, then for handled types its user or
 * its organization membership.
 */
export interface StandardWebhooksValidators {
  event: PayloadValidator<ClerkEvent>;
  user: PayloadValidator<ClerkUser>;
  membership: PayloadValidator<ClerkOrganizationMembership>;
}

export const STANDARD_WEBHOOKS_VALIDATORS: StandardWebhooksValidators = {
  event: validateClerkEvent,
  user: validateClerkUser,
  membership: validateClerkOrganizationMembership,
};

const prepare = (
  connection: Connection,
  validators: StandardWebhooksValidators = STANDARD_WEBHOOKS_VALIDATORS,
): PreparedSource<StandardWebhooksDelivery> => {
  const { event: validateEvent, user: validateUser } = validators;
  const options = readOptions(validateOptions, connection.options, connection.id);
  const toleranceSeconds = options.toleranceSeconds ?? STANDARD_WEBHOOKS_DEFAULTS.toleranceSeconds;
  const eventTypes = new Set<string>(options.eventTypes ?? STANDARD_WEBHOOKS_DEFAULTS.eventTypes);

  return {
    async authenticate(request, context) {
      const headers = readStandardWebhookHeaders(request);
      verifyStandardWebhook({
        headers,
        rawBody: request.rawBody,
        secrets: headers
          ? await readSigningSecrets(connection.secrets.signing, context.secrets)
          : [],
        nowMs: context.now(),
        toleranceSeconds,
      });
    },

    parse(payload, request) {
      const headers = readStandardWebhookHeaders(request);
      // authenticate() has already required the headers; this only guards a misuse.
      if (headers === undefined) {
        throw new SignatureError('The webhook headers are missing', {
          details: { reason: 'missing_headers' },
        });
      }
      // The id is signed, so it was read for the signature; it is refused before anything echoes it.
      const eventId = checkSenderId(headers.id, `/headers/${headers.idHeader}`);
      const sentAtMs = TIMESTAMP.test(headers.timestamp)
        ? Number(headers.timestamp) * 1000
        : undefined;
      // Properties added one by one, not `{ ...delivery, user }`: on Node 20 (V8 11) a property added
      // after a spread gives every object its own hidden class in old space.
      const delivery = (
        event: StandardWebhooksDelivery['event'],
        user?: StandardWebhooksDelivery['user'],
        membership?: StandardWebhooksDelivery['membership'],
      ): StandardWebhooksDelivery => {
        const result: StandardWebhooksDelivery = { eventId, event };
        if (sentAtMs !== undefined) result.sentAtMs = sentAtMs;
        if (user !== undefined) result.user = user;
        if (membership !== undefined) result.membership = membership;
        return result;
      };
      assertPayload(validateEvent, payload);
      // Only handled event types must carry a user: ignored ones (session.created…) have other data.
      if (!eventTypes.has(payload.type)) return delivery(payload);
      const member = CLERK_MEMBERSHIP_EVENTS[payload.type];
      if (member !== undefined) {
        assertPayload(validators.membership, payload.data, '/data');
        return delivery(payload, undefined, { data: payload.data, member });
      }
      assertPayload(validateUser, payload.data, '/data');
      return delivery(payload, payload.data);
    },

    async toChanges({ eventId, event, user, membership, sentAtMs }, _request, context) {
      if (membership !== undefined) {
        const change = clerkMembershipToChange({
          connectionId: connection.id,
          eventId,
          event,
          membership: membership.data,
          member: membership.member,
          deliveredAtMs: sentAtMs ?? context.now(),
        });
        return { changes: [change], ignored: [] };
      }
      if (user === undefined) {
        return {
          changes: [],
          ignored: [{ eventId, eventType: event.type, reason: 'event_type_not_handled' }],
        };
      }
      const change = clerkUserToChange({
        connectionId: connection.id,
        eventId,
        event,
        user,
        deliveredAtMs: sentAtMs ?? context.now(),
      });
      return { changes: [change], ignored: [] };
    },
  };
};

/** Standard Webhooks / Svix deliveries, with Clerk's user events as the payload. */
export const standardWebhooksSource: SourceDefinition<
  StandardWebhooksDelivery,
  StandardWebhooksValidators
> = {
  type: 'standard-webhooks',
  optionsSchema: standardWebhooksOptionsSchema,
  prepare,
};
