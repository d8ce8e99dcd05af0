import type { CanonicalAttributes, UserChange, UserSubject } from '../../change.ts';
import { sha256Hex } from '../../hash.ts';
import { checkSenderId } from '../shared/sender-id.ts';
import { definedOnly, nonEmpty, toIsoTime } from '../shared/values.ts';
import { type FieldValues, fieldInvalid, fieldPath } from './fields.ts';
import { HMAC_DEFAULTS } from './schema.ts';

export interface HmacEnvelope {
  eventId: string;
  /** Undefined when neither an expression nor a header names the type. */
  eventType: string | undefined;
}

export interface HmacEnvelopeInput {
  values: FieldValues;
  /** Header values, already length-checked by parse(). */
  eventIdHeader: string | undefined;
  eventTypeHeader: string | undefined;
  rawBody: Uint8Array;
}

const asText = (value: string | number | undefined): string | undefined =>
  typeof value === 'number' ? String(value) : nonEmpty(value);

/** An id or type an expression yielded; both are echoed and logged, so both are capped. */
const fromField = (values: FieldValues, name: 'eventId' | 'eventType'): string | undefined => {
  const text = asText(values[name]);
  return text === undefined ? undefined : checkSenderId(text, fieldPath(name));
};

/**
 * Without an id from the payload or a header, the body hash is the id: a redelivery of the same
 * bytes dedupes, a different body is a different event.
 */
export const hmacEnvelope = (input: HmacEnvelopeInput): HmacEnvelope => ({
  eventId:
    fromField(input.values, 'eventId') ??
    nonEmpty(input.eventIdHeader) ??
    `sha256:${sha256Hex(input.rawBody)}`,
  eventType: fromField(input.values, 'eventType') ?? nonEmpty(input.eventTypeHeader),
});

export interface HmacChangeInput {
  connectionId: string;
  envelope: HmacEnvelope;
  values: FieldValues;
  payload: unknown;
  /** The signed timestamp header (seconds) when configured, else the delivery time. */
  deliveredAtMs: number;
}

export const hmacToChange = (input: HmacChangeInput): UserChange => {
  const { values } = input;
  const externalId = asText(values.externalId);
  if (externalId === undefined) throw fieldInvalid('externalId', 'must yield a non-empty string');
  let occurredAt = new Date(input.deliveredAtMs).toISOString();
  if (values.occurredAt !== undefined) {
    const iso = toIsoTime(values.occurredAt);
    if (iso === undefined) throw fieldInvalid('occurredAt', 'must yield a date or epoch ms');
    occurredAt = iso;
  }
  const email = asText(values.email);
  const phone = asText(values.phone);
  const userName = asText(values.userName);
  const subject: UserSubject = definedOnly({ externalId, email, phone, userName });
  const attributes: CanonicalAttributes = definedOnly({
    userName,
    email,
    phone,
    nickname: asText(values.nickname),
    givenName: asText(values.givenName),
    familyName: asText(values.familyName),
    address: asText(values.address),
    birthdate: typeof values.birthdate === 'number' ? values.birthdate : asText(values.birthdate),
  });
  return {
    connectionId: input.connectionId,
    eventId: input.envelope.eventId,
    eventType: input.envelope.eventType ?? HMAC_DEFAULTS.eventType,
    occurredAt,
    subject,
    attributes,
    raw: input.payload,
  };
};
