/** Where a secret lives: a Secrets Manager name/ARN (or a key of the local file) and an optional JSON key. */
export interface SecretRef {
  name: string;
  /** When the secret is a JSON object, the key whose string value is wanted. */
  key?: string;
}

/**
 * Secret values come only from here; never from config files or environment variables.
 * `getJson` returns the parsed secret object (string values), `getString` one value.
 */
export interface SecretSource {
  getString(ref: SecretRef): Promise<string>;
  getJson(name: string): Promise<Record<string, unknown>>;
  /** Drop the cached value so the next read refetches (after a rotation or auth failure). */
  invalidate(name: string): void;
}
