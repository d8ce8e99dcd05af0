import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../../errors.ts';
import type { SecretRef, SecretSource } from '../../secrets/types.ts';
import { header } from '../shared/values.ts';
import type { InboundRequest } from '../types.ts';
import type { Auth0AuthMode } from './schema.ts';

export interface Auth0AuthSettings {
  mode: Auth0AuthMode;
  /** Lower-cased, as InboundRequest headers are. */
  headerName: string;
  signing: readonly SecretRef[];
}

const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;
const BASIC = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/** The credential as it is stored in the secret: the token, `user:pass`, or the header value. */
const presentedCredential = (mode: Auth0AuthMode, headerValue: string): string | undefined => {
  if (mode === 'header') return headerValue;
  if (mode === 'bearer') return BEARER.exec(headerValue)?.[1];
  const encoded = BASIC.exec(headerValue)?.[1];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
};

/** Hashing first makes both sides 32 bytes, so neither the comparison nor its length leaks. */
const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

const matchesAny = (presented: string, candidates: readonly string[]): boolean => {
  const presentedDigest = digest(presented);
  let matched = false;
  for (const candidate of candidates) {
    // An empty secret would accept an empty credential: treat it as not configured.
    if (candidate.length > 0 && timingSafeEqual(presentedDigest, digest(candidate))) matched = true;
  }
  return matched;
};

/**
 * Loads every signing secret (two during a rotation). A secret that fails to load only matters
 * when no other one matched: then the failure is a deployment problem, not a bad request.
 */
const verifyAgainstSecrets = async (
  presented: string,
  refs: readonly SecretRef[],
  secrets: SecretSource,
): Promise<void> => {
  const settled = await Promise.allSettled(refs.map((ref) => secrets.getString(ref)));
  const loaded = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (matchesAny(presented, loaded)) return;
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  throw new SignatureError('Credentials do not match the configured secret');
};

export const authenticateAuth0 = async (
  settings: Auth0AuthSettings,
  request: InboundRequest,
  secrets: SecretSource,
): Promise<void> => {
  const headerValue = header(request, settings.headerName);
  if (headerValue === undefined) {
    throw new SignatureError(`Missing ${settings.headerName} header`);
  }
  const presented = presentedCredential(settings.mode, headerValue);
  if (presented === undefined || presented.length === 0) {
    throw new SignatureError(`Malformed ${settings.headerName} header for ${settings.mode} auth`);
  }
  await verifyAgainstSecrets(presented, settings.signing, secrets);
};
