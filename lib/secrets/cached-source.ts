import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import type { SecretRef, SecretSource } from './types.ts';

/** A secret as stored: the trimmed text, and the object when that text is a JSON object. */
export interface SecretValue {
  text: string;
  json?: Record<string, unknown>;
}

export interface CachedSecretSourceOptions {
  now: () => number;
  /** How long a fetched value is reused; `Infinity` keeps it until `invalidate`. */
  ttlMs: number;
}

/**
 * The error every secret failure becomes. The message names the secret and key so an operator can
 * fix the deployment; the value is never passed in, so it cannot leak into logs or responses.
 */
export const secretUnavailable = (
  name: string,
  key: string | undefined,
  reason: string,
  cause?: unknown,
): AdapterError =>
  new AdapterError(
    'SECRET_UNAVAILABLE',
    key === undefined ? `secret "${name}" ${reason}` : `secret "${name}" key "${key}" ${reason}`,
    {
      expose: false,
      details: key === undefined ? { secret: name } : { secret: name, key },
      ...(cause === undefined ? {} : { cause }),
    },
  );

/**
 * Only text that looks like an object is parsed, and a parse failure is swallowed on purpose:
 * JSON.parse messages quote the input, which here is the secret itself.
 */
export const parseSecretText = (raw: string): SecretValue => {
  const text = raw.trim();
  if (!text.startsWith('{')) return { text };
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? { text, json: parsed } : { text };
  } catch {
    return { text };
  }
};

/**
 * GetSecretValue's `SecretString` (from the SDK or the extension) as a SecretValue; a secret
 * without one is binary, which no reference can use.
 */
export const secretValueFromSecretString = (name: string, secretString: unknown): SecretValue => {
  if (typeof secretString !== 'string') {
    throw secretUnavailable(
      name,
      undefined,
      'has no SecretString (binary secrets are unsupported)',
    );
  }
  return parseSecretText(secretString);
};

/** Builds a SecretValue from an already-parsed value (the local secrets file). */
export const secretValueOf = (name: string, value: unknown): SecretValue => {
  if (typeof value === 'string') return parseSecretText(value);
  if (isRecord(value)) return { text: JSON.stringify(value), json: value };
  throw secretUnavailable(name, undefined, 'is neither a string nor a JSON object');
};

const pickString = (value: SecretValue, ref: SecretRef): string => {
  if (ref.key === undefined) {
    if (value.json !== undefined) {
      throw secretUnavailable(ref.name, undefined, 'is a JSON object; the reference needs a key');
    }
    if (value.text === '') throw secretUnavailable(ref.name, undefined, 'is empty');
    return value.text;
  }
  if (value.json === undefined) {
    throw secretUnavailable(ref.name, ref.key, 'cannot be read: the secret is not a JSON object');
  }
  if (!Object.hasOwn(value.json, ref.key)) {
    throw secretUnavailable(ref.name, ref.key, 'is missing');
  }
  const picked = value.json[ref.key];
  if (typeof picked !== 'string') throw secretUnavailable(ref.name, ref.key, 'is not a string');
  const trimmed = picked.trim();
  if (trimmed === '') throw secretUnavailable(ref.name, ref.key, 'is empty');
  return trimmed;
};

const trimmedCopy = (json: Record<string, unknown>): Record<string, unknown> =>
  Object.freeze(
    Object.fromEntries(
      Object.entries(json).map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]),
    ),
  );

/**
 * The caching half of every SecretSource: a TTL cache per name, one shared in-flight fetch per name,
 * failures never cached. A generation counter keeps a fetch that started before `invalidate` from
 * writing the stale value back into the cache.
 */
export const createCachedSecretSource = (
  load: (name: string) => Promise<SecretValue>,
  { now, ttlMs }: CachedSecretSourceOptions,
): SecretSource => {
  const cache = new Map<string, { value: SecretValue; expiresAt: number }>();
  const inFlight = new Map<string, Promise<SecretValue>>();
  const generation = new Map<string, number>();
  // getJson's trimmed object, made once per fetched value rather than on every read (the Tencent
  // client reads its credentials on every attempt). Frozen, since every reader now shares it.
  const trimmed = new WeakMap<SecretValue, Record<string, unknown>>();

  const fetchValue = (name: string): Promise<SecretValue> => {
    const cached = cache.get(name);
    if (cached !== undefined && now() < cached.expiresAt) return Promise.resolve(cached.value);
    const pending = inFlight.get(name);
    if (pending !== undefined) return pending;

    const startedIn = generation.get(name) ?? 0;
    const promise = load(name).then(
      (value) => {
        if ((generation.get(name) ?? 0) === startedIn) {
          cache.set(name, { value, expiresAt: now() + ttlMs });
          inFlight.delete(name);
        }
        return value;
      },
      (error: unknown) => {
        if (inFlight.get(name) === promise) inFlight.delete(name);
        throw error;
      },
    );
    inFlight.set(name, promise);
    return promise;
  };

  return {
    async getString(ref) {
      return pickString(await fetchValue(ref.name), ref);
    },
    async getJson(name) {
      const value = await fetchValue(name);
      if (value.json === undefined) {
        throw secretUnavailable(name, undefined, 'is not a JSON object');
      }
      let json = trimmed.get(value);
      if (json === undefined) {
        json = trimmedCopy(value.json);
        trimmed.set(value, json);
      }
      return json;
    },
    invalidate(name) {
      cache.delete(name);
      inFlight.delete(name);
      generation.set(name, (generation.get(name) ?? 0) + 1);
    },
  };
};
