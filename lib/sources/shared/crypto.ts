import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretRef, SecretSource } from '../../secrets/types.ts';

/** HMAC-SHA256 over the concatenated parts, fed as bytes so raw bodies are signed exactly. */
export const hmacSha256 = (key: string | Uint8Array, ...parts: (string | Uint8Array)[]): Buffer => {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** Constant-time for equal lengths; a length mismatch says nothing about the secret. */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/** All configured signing secrets (two during a rotation), in order. */
export const readSigningSecrets = (
  refs: readonly SecretRef[],
  secrets: SecretSource,
): Promise<string[]> => Promise.all(refs.map((ref) => secrets.getString(ref)));

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
 * For senders that present a static secret (Auth0 bearer/basic, Okta's header): true when it
 * equals one of the configured secrets (two during a rotation). A secret that fails to load only
 * matters when no other one matched: then it is a deployment problem, thrown as such.
 */
export const matchesStaticSecret = async (
  presented: string,
  refs: readonly SecretRef[],
  secrets: SecretSource,
): Promise<boolean> => {
  const settled = await Promise.allSettled(refs.map((ref) => secrets.getString(ref)));
  const loaded = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (matchesAny(presented, loaded)) return true;
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return false;
};
