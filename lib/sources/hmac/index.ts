import type { Connection } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import { readSigningSecrets } from '../shared/crypto.ts';
import { checkSenderId } from '../shared/sender-id.ts';
import { payloadInvalid, readOptions } from '../shared/validation.ts';
import { definedOnly, header } from '../shared/values.ts';
import type { InboundRequest, PreparedSource, SourceDefinition } from '../types.ts';
import { compileFields, evaluateFields } from './fields.ts';
import type { PayloadCheck } from './payload-schema.ts';
import {
  compilePayloadSchema,
  HMAC_DEFAULTS,
  type HmacDelivery,
  hmacOptionsSchema,
  validateOptions,
} from './schema.ts';
import { verifyHmac } from './signature.ts';
import { hmacEnvelope, hmacToChange } from './to-changes.ts';

const TIMESTAMP = /^\d{1,15}$/;

/** The payload check a connection runs, compiled from the operator's schema at cold start. */
export interface HmacValidators {
  compilePayloadSchema: (schema: Record<string, unknown>, connectionId: string) => PayloadCheck;
}

export const HMAC_VALIDATORS: HmacValidators = { compilePayloadSchema };

const prepare = (
  connection: Connection,
  validators = HMAC_VALIDATORS,
): PreparedSource<HmacDelivery> => {
  const options = readOptions(validateOptions, connection.options, connection.id);
  if (options.toleranceSeconds !== undefined && options.timestampHeader === undefined) {
    throw new ConfigError(
      `Connection "${connection.id}": toleranceSeconds needs timestampHeader (nothing else is signed with a time)`,
    );
  }
  const scheme = {
    prefix: options.prefix ?? HMAC_DEFAULTS.prefix,
    encoding: options.encoding ?? HMAC_DEFAULTS.encoding,
  };
  const signatureHeader = (options.signatureHeader ?? HMAC_DEFAULTS.signatureHeader).toLowerCase();
  const timestampHeader = options.timestampHeader?.toLowerCase();
  const eventIdHeader = options.eventIdHeader?.toLowerCase();
  const eventTypeHeader = options.eventTypeHeader?.toLowerCase();
  const toleranceSeconds = options.toleranceSeconds ?? HMAC_DEFAULTS.toleranceSeconds;
  const eventTypes = options.eventTypes === undefined ? undefined : new Set(options.eventTypes);
  const validatePayload = validators.compilePayloadSchema(options.payloadSchema, connection.id);
  const fields = compileFields(options.fields, connection.id);

  const optionalHeader = (request: InboundRequest, name: string | undefined) =>
    name === undefined ? undefined : header(request, name);

  /** A header the change echoes (event id, event type): capped, named by its header in a 400. */
  const senderHeader = (request: InboundRequest, name: string | undefined) => {
    const value = optionalHeader(request, name);
    return value === undefined ? undefined : checkSenderId(value, `/headers/${name}`);
  };

  return {
    async authenticate(request, context) {
      const signature = header(request, signatureHeader);
      verifyHmac({
        scheme,
        signature,
        ...(timestampHeader === undefined
          ? {}
          : { timestamp: { value: header(request, timestampHeader), toleranceSeconds } }),
        rawBody: request.rawBody,
        secrets: signature
          ? await readSigningSecrets(connection.secrets.signing, context.secrets)
          : [],
        nowMs: context.now(),
      });
    },

    parse(payload, request) {
      const eventIdHeaderValue = senderHeader(request, eventIdHeader);
      const eventTypeHeaderValue = senderHeader(request, eventTypeHeader);
      const problems = validatePayload(payload);
      if (problems.length > 0) throw payloadInvalid(problems);
      const timestamp = optionalHeader(request, timestampHeader);
      return {
        payload,
        ...definedOnly({
          eventIdHeader: eventIdHeaderValue,
          eventTypeHeader: eventTypeHeaderValue,
          sentAtMs:
            timestamp !== undefined && TIMESTAMP.test(timestamp)
              ? Number(timestamp) * 1000
              : undefined,
        }),
      };
    },

    async toChanges(parsed, request, context) {
      // Ids and types from expressions are only known now; hmacEnvelope caps them.
      const values = await evaluateFields(fields, parsed.payload);
      const envelope = hmacEnvelope({
        values,
        eventIdHeader: parsed.eventIdHeader,
        eventTypeHeader: parsed.eventTypeHeader,
        rawBody: request.rawBody,
      });
      // The allow-list only applies when the sender names a type; the default is not filtered.
      if (envelope.eventType !== undefined && eventTypes && !eventTypes.has(envelope.eventType)) {
        return {
          changes: [],
          ignored: [
            {
              eventId: envelope.eventId,
              eventType: envelope.eventType,
              reason: 'event_type_not_handled',
            },
          ],
        };
      }
      const change = hmacToChange({
        connectionId: connection.id,
        envelope,
        values,
        payload: parsed.payload,
        deliveredAtMs: parsed.sentAtMs ?? context.now(),
      });
      return { changes: [change], ignored: [] };
    },
  };
};

/** Any sender that signs the raw body with HMAC-SHA256 (GitHub style, Keycloak extensions…). */
export const hmacSource: SourceDefinition<HmacDelivery, HmacValidators> = {
  type: 'hmac',
  optionsSchema: hmacOptionsSchema,
  prepare,
};
