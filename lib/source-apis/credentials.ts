import { isAdapterError } from '../errors.ts';
import type { SecretRef, SecretSource } from '../secrets/types.ts';

/**
 * One credential string from Secrets Manager. A reference with a `key` reads that key; without
 * one, the secret may be a JSON object holding `defaultKey` (`{"secretKey":"sk_…"}`) or the plain
 * string itself.
 */
export const readCredential = async (
  secrets: SecretSource,
  ref: SecretRef,
  defaultKey: string,
): Promise<string> => {
  if (ref.key !== undefined) return secrets.getString(ref);
  let json: Record<string, unknown> | undefined;
  try {
    json = await secrets.getJson(ref.name);
  } catch (error) {
    // Not a JSON object (or missing: the plain read below reports that with its own reason).
    if (!isAdapterError(error) || error.code !== 'SECRET_UNAVAILABLE') throw error;
  }
  if (json === undefined) return secrets.getString({ name: ref.name });
  return secrets.getString({ name: ref.name, key: defaultKey });
};
