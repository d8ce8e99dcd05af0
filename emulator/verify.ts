import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../lib/hash.ts';
import {
  TC3_ALGORITHM,
  tc3CanonicalRequest,
  tc3Date,
  tc3SigningKey,
  tc3StringToSign,
} from '../lib/tencent/sign.ts';
import type { SeedCredential } from './seed.ts';

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

export interface VerifyInput {
  method: string;
  /** Lower-cased header names, as node:http delivers them. */
  headers: HeaderBag;
  /** The raw body bytes as received. */
  body: Uint8Array;
  nowMs: number;
  lookupCredential(secretId: string): SeedCredential | undefined;
  /** Expected signing service; `ciam` unless verifying another product's published vector. */
  service?: string;
  maxSkewSeconds?: number;
}

export type VerifyResult =
  | { ok: true; secretId: string; timestamp: number }
  | { ok: false; code: string; message: string };

const MESSAGES = {
  'AuthFailure.InvalidAuthorization':
    'Header `Authorization` is invalid; it must be `TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.',
  'AuthFailure.SecretIdNotFound':
    'The SecretId is not found, please ensure that your SecretId is correct.',
  'AuthFailure.SignatureFailure':
    'The provided credentials could not be validated. Please check your signature is correct.',
  'AuthFailure.SignatureExpire':
    'Signature expired. Timestamp and server time must not differ by more than five minutes.',
  'AuthFailure.TokenFailure': 'The token (X-TC-Token) is invalid.',
} as const;

const fail = (code: keyof typeof MESSAGES): VerifyResult => ({
  ok: false,
  code,
  message: MESSAGES[code],
});

export const headerValue = (headers: HeaderBag, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const CREDENTIAL = /^([^/\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s]+)\/tc3_request$/;

const parseAuthorization = (value: string): ParsedAuthorization | undefined => {
  const prefix = `${TC3_ALGORITHM} `;
  if (!value.startsWith(prefix)) return undefined;
  const parts = new Map<string, string>();
  for (const part of value.slice(prefix.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = CREDENTIAL.exec(parts.get('Credential') ?? '');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature || parts.size !== 3) return undefined;
  const [, secretId, date, service] = credential;
  if (secretId === undefined || date === undefined || service === undefined) return undefined;
  const names = signedHeaders.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase())) return undefined;
  // The documented minimum; a signature without them does not bind the request to anything.
  if (!names.includes('content-type') || !names.includes('host')) return undefined;
  return { secretId, date, service, signedHeaders: names, signature };
};

/** The SDK signs `URL.hostname` but sends `URL.host`, so the port must not take part. */
const stripPort = (host: string): string => {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  return host.replace(/:\d*$/, '');
};

const equalSecret = (a: string, b: string): boolean => {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * Verifies a TC3-HMAC-SHA256 request the way the API gateway documents it. Checks run in the
 * order the gateway's error codes imply, so each failure maps to exactly one AuthFailure code.
 */
export const verifyTc3Request = (input: VerifyInput): VerifyResult => {
  const authorization = headerValue(input.headers, 'authorization');
  if (!authorization) return fail('AuthFailure.InvalidAuthorization');
  const auth = parseAuthorization(authorization.trim());
  if (!auth) return fail('AuthFailure.InvalidAuthorization');

  const timestampText = headerValue(input.headers, 'x-tc-timestamp')?.trim() ?? '';
  if (!/^\d{1,12}$/.test(timestampText)) return fail('AuthFailure.InvalidAuthorization');
  const timestamp = Number(timestampText);

  const credential = input.lookupCredential(auth.secretId);
  if (!credential) return fail('AuthFailure.SecretIdNotFound');

  const service = input.service ?? 'ciam';
  if (auth.service !== service || auth.date !== tc3Date(timestamp)) {
    return fail('AuthFailure.SignatureFailure');
  }
  const maxSkew = input.maxSkewSeconds ?? 300;
  if (Math.abs(input.nowMs / 1000 - timestamp) > maxSkew)
    return fail('AuthFailure.SignatureExpire');

  const pairs: Array<[string, string]> = [];
  for (const name of auth.signedHeaders) {
    const raw = headerValue(input.headers, name);
    if (raw === undefined) return fail('AuthFailure.SignatureFailure');
    const value = raw.trim().toLowerCase();
    pairs.push([name, name === 'host' ? stripPort(value) : value]);
  }
  const { canonicalRequest } = tc3CanonicalRequest(
    pairs,
    sha256Hex(input.body),
    input.method.toUpperCase(),
  );
  const scope = `${auth.date}/${auth.service}/tc3_request`;
  const expected = createHmac('sha256', tc3SigningKey(credential.SecretKey, auth.date, service))
    .update(tc3StringToSign(timestamp, scope, canonicalRequest))
    .digest('hex');
  if (!equalSecret(expected, auth.signature)) return fail('AuthFailure.SignatureFailure');

  if (credential.Token !== undefined) {
    const token = headerValue(input.headers, 'x-tc-token') ?? '';
    if (!equalSecret(credential.Token, token)) return fail('AuthFailure.TokenFailure');
  }
  return { ok: true, secretId: auth.secretId, timestamp };
};
