import type { UpdateUserRequest } from '../ciam/types.ts';
import { maskEmail, maskPhone } from '../log/mask.ts';

/**
 * Values as a trace shows them: enough to tell them apart by eye, never the personal data itself.
 * Ids the adapter itself logs (user, user store and group ids) stay as they are.
 */
export type Masked = string | string[] | null;

const CLEAR_FIELDS = new Set(['UserId', 'UserStoreId', 'UserGroup', 'UserOrg']);

/** Free text (names, addresses): its first two characters, and how long it is. */
export const maskText = (text: string): string =>
  text.length <= 4 ? '***' : `${text.slice(0, 2)}*** (${text.length} chars)`;

export const maskValue = (field: string, value: unknown): Masked => {
  if (value === undefined || value === null) return null;
  if (CLEAR_FIELDS.has(field) && Array.isArray(value)) return value.map(String);
  if (CLEAR_FIELDS.has(field) && typeof value === 'string') return value;
  if (typeof value !== 'string') return '***';
  if (field === 'Email') return maskEmail(value);
  if (field === 'PhoneNumber') return maskPhone(value);
  return maskText(value);
};

/**
 * The UpdateUser request with every personal value masked, for the `EXPLAIN` line. The field
 * clocks attribute (`clockAttribute`) holds times and hashes only, and stays readable.
 */
export const maskRequest = (
  request: UpdateUserRequest,
  clockAttribute: string | undefined,
): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    if (key !== 'CustomizationAttributes') {
      out[key] = maskValue(key, value);
      continue;
    }
    out[key] = (request.CustomizationAttributes ?? []).map((item) => ({
      Name: item.Name,
      Value:
        item.Name === clockAttribute ? item.Value : maskValue(`custom:${item.Name}`, item.Value),
      Type: item.Type,
    }));
  }
  return out;
};

/**
 * Signed headers with the secret parts taken out: the signature, the session token, and all but
 * the first four characters of the SecretId (the rest of `Credential=` is the date and scope).
 */
export const redactHeaders = (
  headers: Readonly<Record<string, string>>,
): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'Authorization') {
      out[name] = value
        .replace(/Signature=[0-9a-fA-F]+/, 'Signature=<redacted>')
        .replace(/Credential=([^/,\s]{0,4})[^/,\s]*/, 'Credential=$1***');
    } else if (name === 'X-TC-Token') {
      out[name] = '<redacted>';
    } else {
      out[name] = value;
    }
  }
  return out;
};
