import type { Connection, SourceType } from '../../lib/config/types.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';

/** An in-memory SecretSource: secret name → value; unknown names fail like a missing secret. */
export const fakeSecrets = (values: Record<string, string>): SecretSource => ({
  getString: async (ref) => {
    const value = values[ref.name];
    if (value === undefined) throw new Error(`no secret ${ref.name}`);
    return value;
  },
  getJson: async () => ({}),
  invalidate: () => undefined,
});

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
