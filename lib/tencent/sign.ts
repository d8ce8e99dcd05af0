import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../hash.ts';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

export interface Tc3SignInput {
  secretId: string;
  secretKey: string;
  /** Signing service, the first label of the API host (`ciam`). */
  service: string;
  /** Host as signed: no port (the official SDK signs `URL.hostname`). */
  host: string;
  /**
   * Extra headers to sign besides content-type and host (e.g. `{ 'X-TC-Action': 'UpdateUser' }`).
   * Most callers sign only content-type and host, as the official SDK does.
   */
  headers?: Readonly<Record<string, string>>;
  contentType: string;
  /** The exact bytes that will be sent. */
  body: string | Uint8Array;
  /** X-TC-Timestamp in seconds. Passed in so the signer stays pure. */
  timestamp: number;
}

export interface Tc3Signature {
  authorization: string;
  signature: string;
  signedHeaders: string;
  date: string;
  canonicalRequest: string;
  stringToSign: string;
}

const hmac = (key: string | Uint8Array, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();

/** UTC on purpose: local dates broke the official SDK every day from 00:00 to 08:00 UTC+8. */
export const tc3Date = (timestamp: number): string =>
  new Date(timestamp * 1000).toISOString().slice(0, 10);

/** Derived key chain; exported for the emulator, which verifies with the same steps. */
export const tc3SigningKey = (secretKey: string, date: string, service: string): Buffer =>
  hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');

/**
 * What a signer may reuse between signatures, kept by whoever signs often (one per Tencent
 * client), never by this module. Both steps must answer exactly as `tc3Date` and `tc3SigningKey`
 * would: a cache only saves work.
 */
export interface Tc3KeyCache {
  dateOf(timestamp: number): string;
  signingKey(secretKey: string, date: string, service: string): KeyObject | Uint8Array;
}

/** Derives everything on every signature: what `signTc3` does when given no cache. */
const UNCACHED: Tc3KeyCache = { dateOf: tc3Date, signingKey: tc3SigningKey };

export interface Tc3KeyCacheOptions {
  /** Derived keys kept; the oldest goes first. Default 16. */
  size?: number;
  /** Default `tc3SigningKey`; replaced only to watch what the cache derives. */
  derive?: (secretKey: string, date: string, service: string) => Uint8Array;
}

/**
 * A cache for one signer. The derived key depends only on (secretKey, date, service), so three of
 * the four HMACs per signature are repeated work, and consecutive signatures almost always fall on
 * the same UTC day, whose formatting is not free either. Bounded so rotated keys and past dates
 * cannot accumulate.
 */
export const createTc3KeyCache = ({
  size = 16,
  derive = tc3SigningKey,
}: Tc3KeyCacheOptions = {}): Tc3KeyCache => {
  let lastDay = Number.NaN;
  let lastDate = '';
  const keys = new Map<string, KeyObject>();
  // The key of the previous signature, checked before building the map's id: one client signs
  // with one secret and one service, on one date, nearly all day.
  let last: { secretKey: string; date: string; service: string; key: KeyObject } | undefined;
  return {
    dateOf(timestamp) {
      const day = Math.floor(timestamp / 86_400);
      if (day !== lastDay) {
        lastDate = tc3Date(timestamp);
        lastDay = day;
      }
      return lastDate;
    },
    signingKey(secretKey, date, service) {
      if (
        last !== undefined &&
        last.secretKey === secretKey &&
        last.date === date &&
        last.service === service
      ) {
        return last.key;
      }
      // Length-prefixed so no (service, secretKey) pair can collide with another.
      const id = `${date}|${service.length}|${service}|${secretKey}`;
      let key = keys.get(id);
      if (key === undefined) {
        key = createSecretKey(derive(secretKey, date, service));
        if (keys.size >= size) {
          const oldest = keys.keys().next();
          if (oldest.done !== true) keys.delete(oldest.value);
        }
        keys.set(id, key);
      }
      last = { secretKey, date, service, key };
      return key;
    },
  };
};

/**
 * Builds the canonical request from already-lowercased header pairs. Shared by the signer and
 * the emulator's verifier so both follow one definition of the canonical form.
 */
export const tc3CanonicalRequest = (
  signed: ReadonlyArray<readonly [string, string]>,
  payloadHash: string,
  method = 'POST',
): { canonicalRequest: string; signedHeaders: string } => {
  const sorted = [...signed].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalHeaders = sorted.map(([k, v]) => `${k}:${v}\n`).join('');
  const signedHeaders = sorted.map(([k]) => k).join(';');
  return {
    canonicalRequest: `${method}\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`,
    signedHeaders,
  };
};

export const tc3StringToSign = (timestamp: number, scope: string, canonicalRequest: string) =>
  `${TC3_ALGORITHM}\n${timestamp}\n${scope}\n${sha256Hex(canonicalRequest)}`;

const canonicalize = (input: Tc3SignInput, payloadHash: string) => {
  const contentType = input.contentType.trim().toLowerCase();
  const host = input.host.trim().toLowerCase();
  if (input.headers === undefined) {
    // The common case (what the SDK signs): already in order, no sort needed.
    return {
      canonicalRequest: `POST\n/\n\ncontent-type:${contentType}\nhost:${host}\n\ncontent-type;host\n${payloadHash}`,
      signedHeaders: 'content-type;host',
    };
  }
  const pairs: Array<[string, string]> = [
    ['content-type', contentType],
    ['host', host],
  ];
  for (const [key, value] of Object.entries(input.headers)) {
    const k = key.trim().toLowerCase();
    if (k !== 'content-type' && k !== 'host') pairs.push([k, value.trim().toLowerCase()]);
  }
  return tc3CanonicalRequest(pairs, payloadHash);
};

/**
 * A TC3-HMAC-SHA256 signature of one request. Keeps nothing between calls; `cache`, when given,
 * is where it may reuse the date and derived key of earlier signatures.
 */
export const signTc3 = (input: Tc3SignInput, cache: Tc3KeyCache = UNCACHED): Tc3Signature => {
  const date = cache.dateOf(input.timestamp);
  const { canonicalRequest, signedHeaders } = canonicalize(input, sha256Hex(input.body));
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = tc3StringToSign(input.timestamp, scope, canonicalRequest);
  const signature = createHmac('sha256', cache.signingKey(input.secretKey, date, input.service))
    .update(stringToSign)
    .digest('hex');
  return {
    authorization: `${TC3_ALGORITHM} Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signature,
    signedHeaders,
    date,
    canonicalRequest,
    stringToSign,
  };
};
