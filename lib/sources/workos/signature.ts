import { SignatureError } from '../../errors.ts';
import { equalBytes, hmacSha256 } from '../shared/crypto.ts';

export const WORKOS_SIGNATURE_HEADER = 'workos-signature';

const TIMESTAMP = /^\d{1,16}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

const digest = (secret: string, timestamp: string, body: Uint8Array): Buffer =>
  // The WorkOS secret is used as UTF-8 text, not base64-decoded like `whsec_` secrets.
  hmacSha256(secret, `${timestamp}.`, body);

/** Sender side: the `WorkOS-Signature` header value for `timestampMs` and the exact body. */
export const signWorkos = (
  secret: string,
  timestampMs: number | string,
  body: string | Uint8Array,
): string => {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return `t=${timestampMs}, v1=${digest(secret, String(timestampMs), bytes).toString('hex')}`;
};

interface ParsedHeader {
  timestamp: string;
  signatures: Buffer[];
}

const reject = (reason: string): SignatureError =>
  new SignatureError('The webhook signature could not be verified', { details: { reason } });

/** `t=<ms>, v1=<hex>[, v1=<hex>…]`: split on `,`, then on the first `=`, trimming each part. */
const parseHeader = (value: string): ParsedHeader => {
  const timestamps: string[] = [];
  const signatures: Buffer[] = [];
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const entry = part.slice(at + 1).trim();
    if (key === 't') timestamps.push(entry);
    else if (key === 'v1' && HEX_SHA256.test(entry)) signatures.push(Buffer.from(entry, 'hex'));
  }
  const [timestamp] = timestamps;
  // Two `t=` parts would leave it open which one was signed.
  if (timestamps.length !== 1 || timestamp === undefined || !TIMESTAMP.test(timestamp)) {
    throw reject('malformed_header');
  }
  if (signatures.length === 0) throw reject('malformed_header');
  return { timestamp, signatures };
};

export interface VerifyWorkosInput {
  header: string | undefined;
  rawBody: Uint8Array;
  secrets: readonly string[];
  nowMs: number;
  toleranceSeconds: number;
}

/**
 * The WorkOS SDK only rejects old timestamps; future ones are rejected too, so a leaked
 * signature cannot be pre-dated for later replay.
 */
export const verifyWorkos = (input: VerifyWorkosInput): void => {
  if (input.header === undefined) throw reject('missing_headers');
  const { timestamp, signatures } = parseHeader(input.header);
  if (Math.abs(input.nowMs - Number(timestamp)) > input.toleranceSeconds * 1000) {
    throw reject('timestamp_out_of_tolerance');
  }
  for (const secret of input.secrets) {
    const expected = digest(secret, timestamp, input.rawBody);
    let matched = false;
    for (const candidate of signatures) matched = equalBytes(candidate, expected) || matched;
    if (matched) return;
  }
  throw reject('no_matching_signature');
};
