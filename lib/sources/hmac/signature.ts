import { SignatureError } from '../../errors.ts';
import { equalBytes, hmacSha256 } from '../shared/crypto.ts';

export type HmacEncoding = 'hex' | 'base64';

const TIMESTAMP = /^\d{1,15}$/;
const SIGNATURE: Record<HmacEncoding, RegExp> = {
  hex: /^[0-9a-fA-F]{64}$/,
  base64: /^[A-Za-z0-9+/]{43}=$/,
};

export interface HmacScheme {
  prefix: string;
  encoding: HmacEncoding;
}

/** With a timestamp header the message is `${timestamp}.${body}`, otherwise the body alone. */
const digest = (secret: string, body: Uint8Array, timestamp: string | undefined): Buffer =>
  timestamp === undefined ? hmacSha256(secret, body) : hmacSha256(secret, `${timestamp}.`, body);

/** Sender side: the signature header value, e.g. `sha256=<hex>` (GitHub style). */
export const signHmac = (
  secret: string,
  body: string | Uint8Array,
  scheme: HmacScheme,
  timestamp?: string | number,
): string => {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const mac = digest(secret, bytes, timestamp === undefined ? undefined : String(timestamp));
  return `${scheme.prefix}${mac.toString(scheme.encoding)}`;
};

export interface VerifyHmacInput {
  scheme: HmacScheme;
  signature: string | undefined;
  /** Present only when the connection configures a timestamp header; `value` undefined = missing. */
  timestamp?: { value: string | undefined; toleranceSeconds: number };
  rawBody: Uint8Array;
  secrets: readonly string[];
  nowMs: number;
}

const reject = (reason: string): SignatureError =>
  new SignatureError('The webhook signature could not be verified', { details: { reason } });

export const verifyHmac = (input: VerifyHmacInput): void => {
  const { scheme, signature } = input;
  if (signature === undefined) throw reject('missing_headers');
  let timestamp: string | undefined;
  if (input.timestamp !== undefined) {
    timestamp = input.timestamp.value;
    if (timestamp === undefined) throw reject('missing_headers');
    if (!TIMESTAMP.test(timestamp)) throw reject('malformed_timestamp');
    const skewSeconds = Math.abs(Math.floor(input.nowMs / 1000) - Number(timestamp));
    if (skewSeconds > input.timestamp.toleranceSeconds) throw reject('timestamp_out_of_tolerance');
  }
  const encoded = signature.startsWith(scheme.prefix)
    ? signature.slice(scheme.prefix.length)
    : undefined;
  if (encoded === undefined || !SIGNATURE[scheme.encoding].test(encoded)) {
    throw reject('malformed_signature');
  }
  const candidate = Buffer.from(encoded, scheme.encoding);
  for (const secret of input.secrets) {
    if (equalBytes(candidate, digest(secret, input.rawBody, timestamp))) return;
  }
  throw reject('no_matching_signature');
};
