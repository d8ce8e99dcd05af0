import { ConfigError, SignatureError } from '../../errors.ts';
import { equalBytes, hmacSha256 } from '../shared/crypto.ts';
import { header } from '../shared/values.ts';
import type { InboundRequest } from '../types.ts';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TIMESTAMP = /^\d{1,15}$/;

export interface StandardWebhookHeaders {
  id: string;
  /** Which header carried the id, so a refusal can name it. */
  idHeader: 'svix-id' | 'webhook-id';
  /** Unix seconds, as sent. */
  timestamp: string;
  signature: string;
}

/**
 * Svix sends `svix-*`, white-labelled senders `webhook-*`; like the svix library, each `svix-*`
 * header wins over its `webhook-*` twin. Mixing is harmless: id and timestamp are signed.
 */
export const readStandardWebhookHeaders = (
  request: InboundRequest,
): StandardWebhookHeaders | undefined => {
  const pick = (name: string) =>
    header(request, `svix-${name}`) ?? header(request, `webhook-${name}`);
  const svixId = header(request, 'svix-id');
  const id = svixId ?? header(request, 'webhook-id');
  const timestamp = pick('timestamp');
  const signature = pick('signature');
  if (id === undefined || timestamp === undefined || signature === undefined) return undefined;
  return { id, idHeader: svixId === undefined ? 'webhook-id' : 'svix-id', timestamp, signature };
};

/** `whsec_<base64>` or bare base64 → key bytes. A broken secret is a deployment error. */
const decodeSecret = (secret: string): Buffer => {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!BASE64.test(encoded)) {
    throw new ConfigError('A Standard Webhooks signing secret is not base64 (whsec_...)');
  }
  return Buffer.from(encoded, 'base64');
};

/**
 * HMAC over `${id}.${timestamp}.` followed by the raw body bytes. Not the `standardwebhooks`
 * library: its `sign` turns a Buffer into a string (UTF-8 decode) and encodes it again, so a
 * body that is not valid UTF-8 would be signed with U+FFFD replacements instead of the bytes
 * received. The tests use the library as an independent oracle for valid UTF-8 bodies.
 */
const digest = (key: Uint8Array, id: string, timestamp: number, body: Uint8Array): Buffer =>
  hmacSha256(key, `${id}.${timestamp}.`, body);

/** Sender side: the `webhook-signature` entry (`v1,<base64>`) for one secret. */
export const signStandardWebhook = (
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Uint8Array,
): string => {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return `v1,${digest(decodeSecret(secret), id, timestampSeconds, bytes).toString('base64')}`;
};

export interface VerifyStandardWebhookInput {
  headers: StandardWebhookHeaders | undefined;
  rawBody: Uint8Array;
  secrets: readonly string[];
  nowMs: number;
  toleranceSeconds: number;
}

const reject = (reason: string): SignatureError =>
  new SignatureError('The webhook signature could not be verified', { details: { reason } });

/**
 * The reference library's order: headers, timestamp tolerance (both directions, with the
 * injected clock rather than Date.now), then every `v1` entry against every secret.
 */
export const verifyStandardWebhook = (input: VerifyStandardWebhookInput): void => {
  const { headers } = input;
  if (headers === undefined) throw reject('missing_headers');
  if (!TIMESTAMP.test(headers.timestamp)) throw reject('malformed_timestamp');
  const timestamp = Number(headers.timestamp);
  const now = Math.floor(input.nowMs / 1000);
  if (now - timestamp > input.toleranceSeconds || timestamp - now > input.toleranceSeconds) {
    throw reject('timestamp_out_of_tolerance');
  }
  const candidates: Buffer[] = [];
  for (const entry of headers.signature.split(' ')) {
    const [version, encoded] = entry.split(',', 2);
    // Other versions (v1a Ed25519, future ones) are skipped, as the reference library does.
    if (version !== 'v1' || encoded === undefined || !BASE64.test(encoded)) continue;
    candidates.push(Buffer.from(encoded, 'base64'));
  }
  if (candidates.length === 0) throw reject('malformed_signature');
  const keys = input.secrets.map(decodeSecret);
  for (const key of keys) {
    const expected = digest(key, headers.id, timestamp, input.rawBody);
    // Check every candidate rather than returning early, so timing says nothing about position.
    let matched = false;
    for (const candidate of candidates) matched = equalBytes(candidate, expected) || matched;
    if (matched) return;
  }
  throw reject('no_matching_signature');
};
