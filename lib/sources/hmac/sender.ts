import type { SignDelivery } from '../shared/sender.ts';
import { HMAC_DEFAULTS, type HmacOptions } from './schema.ts';
import { signHmac } from './signature.ts';

export type HmacSenderOptions = Pick<
  HmacOptions,
  'signatureHeader' | 'prefix' | 'encoding' | 'timestampHeader' | 'eventIdHeader'
>;

/**
 * A sender shaped by the connection's options: the signature header and its format, a signed
 * timestamp header (seconds) when one is configured, and the event id header when there is an id.
 */
export const signHmacDelivery: SignDelivery<HmacSenderOptions> = (
  { body, secret, nowMs, eventId },
  options = {},
) => {
  const scheme = {
    prefix: options.prefix ?? HMAC_DEFAULTS.prefix,
    encoding: options.encoding ?? HMAC_DEFAULTS.encoding,
  };
  const { timestampHeader, eventIdHeader } = options;
  const timestamp = timestampHeader === undefined ? undefined : String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {
    [options.signatureHeader ?? HMAC_DEFAULTS.signatureHeader]: signHmac(
      secret,
      body,
      scheme,
      timestamp,
    ),
  };
  if (timestampHeader !== undefined && timestamp !== undefined)
    headers[timestampHeader] = timestamp;
  if (eventIdHeader !== undefined && eventId !== undefined) headers[eventIdHeader] = eventId;
  return headers;
};
