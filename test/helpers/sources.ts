import type { Connection, SourceType } from '../../lib/config/types.ts';
import { AdapterError } from '../../lib/errors.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import type { InboundRequest, SourceContext } from '../../lib/sources/types.ts';

export interface FakeSecrets extends SecretSource {
  /** The names read, in order, so a test can tell which secrets a step needed. */
  reads: string[];
}

/**
 * An in-memory SecretSource: secret name → value. An unknown name fails like a missing secret;
 * a `failing` one like Secrets Manager being unreachable (SECRET_UNAVAILABLE).
 */
export const fakeSecrets = (
  values: Record<string, string>,
  failing: readonly string[] = [],
): FakeSecrets => {
  const reads: string[] = [];
  return {
    reads,
    getString: async (ref) => {
      reads.push(ref.name);
      if (failing.includes(ref.name)) {
        throw new AdapterError('SECRET_UNAVAILABLE', 'secret unavailable');
      }
      // Own properties only: a secret named `constructor` must not find Object.prototype.
      const value = Object.hasOwn(values, ref.name) ? values[ref.name] : undefined;
      if (value === undefined) throw new Error(`no secret ${ref.name}`);
      return value;
    },
    getJson: async () => ({}),
    invalidate: () => undefined,
  };
};

/**
 * What a source is given at `nowMs`: these secrets (name → value, or a ready source), the real
 * fetch unless `extra` replaces it.
 */
export const sourceContext = (
  nowMs: number,
  secrets: Record<string, string> | SecretSource,
  extra: Partial<SourceContext> = {},
): SourceContext => ({
  secrets: isSecretSource(secrets) ? secrets : fakeSecrets(secrets),
  fetch,
  now: () => nowMs,
  ...extra,
});

const isSecretSource = (value: Record<string, string> | SecretSource): value is SecretSource =>
  typeof value.getString === 'function';

/** A connection for source unit tests; signing secrets are named, resolved by `fakeSecrets`. */
export const sourceConnection = (
  id: string,
  source: SourceType,
  options: Record<string, unknown>,
  signing: readonly string[] = ['signing'],
  delivery: Connection['delivery'] = 'sync',
): Connection => ({
  id,
  source,
  userStoreId: 'usr-store',
  secrets: { signing: signing.map((name) => ({ name })) },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery,
  options,
});

export const inboundRequest = (
  path: string,
  headers: Record<string, string>,
  body: string | Buffer,
): InboundRequest => ({
  method: 'POST',
  path,
  headers,
  query: {},
  rawBody: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
});
