import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretRef, SecretSource } from '../../secrets/types.ts';

/** HMAC-SHA256 over the concatenated parts, fed as bytes so raw bodies are signed exactly. */
export const hmacSha256 = (key: string | Uint8Array, ...parts: (string | Uint8Array)[]): Buffer => {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

export const sha256Hex = (data: Uint8Array): string =>
  createHash('sha256').update(data).digest('hex');

/** Constant-time for equal lengths; a length mismatch says nothing about the secret. */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && timingSafeEqual(a, b);

/** All configured signing secrets (two during a rotation), in order. */
export const readSigningSecrets = (
  refs: readonly SecretRef[],
  secrets: SecretSource,
): Promise<string[]> => Promise.all(refs.map((ref) => secrets.getString(ref)));
