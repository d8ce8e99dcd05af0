import type { Connection } from '../../config/types.ts';
import { SignatureError } from '../../errors.ts';
import { readSigningSecrets } from '../shared/crypto.ts';
import { assertPayload, readOptions } from '../shared/validation.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import {
  type ClerkEvent,
  type ClerkUser,
  STANDARD_WEBHOOKS_DEFAULTS,
  standardWebhooksOptionsSchema,
  validateClerkEvent,
  validateClerkUser,
  validateOptions,
} from './schema.ts';
import { readStandardWebhookHeaders, verifyStandardWebhook } from './signature.ts';
import { clerkUserToChange } from './to-changes.ts';

const prepare = (connection: Connection): PreparedSource => {
  const options = readOptions(validateOptions, connection.options, connection.id);
  const toleranceSeconds = options.toleranceSeconds ?? STANDARD_WEBHOOKS_DEFAULTS.toleranceSeconds;
  const eventTypes = new Set<string>(options.eventTypes ?? STANDARD_WEBHOOKS_DEFAULTS.eventTypes);

  // Only handled event types must carry a user: ignored ones (session.created…) have other data.
  const parse = (payload: unknown): { event: ClerkEvent; user?: ClerkUser } => {
    assertPayload(validateClerkEvent, payload);
    if (!eventTypes.has(payload.type)) return { event: payload };
    assertPayload(validateClerkUser, payload.data, '/data');
    return { event: payload, user: payload.data };
  };

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

    validate(payload) {
      parse(payload);
    },

    async toChanges(payload, request, context) {
      const { event, user } = parse(payload);
      const headers = readStandardWebhookHeaders(request);
      // authenticate() has already required the headers; this only guards a misuse.
      if (headers === undefined) {
        throw new SignatureError('The webhook headers are missing', {
          details: { reason: 'missing_headers' },
        });
      }
      const eventId = headers.id;
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
        deliveredAtMs: /^\d{1,15}$/.test(headers.timestamp)
          ? Number(headers.timestamp) * 1000
          : context.now(),
      });
      return { changes: [change], ignored: [] };
    },
  };
};

/** Standard Webhooks / Svix deliveries, with Clerk's user events as the payload. */
export const standardWebhooksSource: SourceDefinition = {
  type: 'standard-webhooks',
  optionsSchema: standardWebhooksOptionsSchema,
  prepare,
};
