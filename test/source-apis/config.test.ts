import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.ts';
import type { Connection } from '../../lib/config/types.ts';
import type { ConfigError } from '../../lib/errors.ts';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import { readCredential } from '../../lib/source-apis/credentials.ts';
import { rateLimitWaitMs } from '../../lib/source-apis/http.ts';
import {
  createSourceUserLister,
  localSourceApiUrl,
  withLocalSourceApi,
} from '../../lib/source-apis/index.ts';
import { contractOptionSchemas } from '../config/fixtures/contract-option-schemas.ts';
import { compileConfigValidator } from '../helpers/config-validator.ts';
import { fakeClock } from '../helpers/source-apis.ts';

const contract = compileConfigValidator(contractOptionSchemas);

const connection = (
  id: string,
  source: string,
  api: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  id,
  source,
  userStoreId: 'store-1',
  secrets: { signing: [{ name: `app/${id}` }] },
  resolve: { by: 'indexedAttribute', index: 1 },
  reconcile: { api },
  ...extra,
});

const problemsOf = (connections: unknown[]): { path: string; message: string }[] => {
  try {
    parseConfig({ ciam: { credentials: { name: 'ciam/creds' } }, connections }, contract);
  } catch (error) {
    return (error as ConfigError).details as { path: string; message: string }[];
  }
  return [];
};

const cred = { name: 'app/api' };

describe('reconcile.api at cold start', () => {
  it('accepts each API on its own source with what it needs', () => {
    expect(
      problemsOf([
        connection('clerk', 'standard-webhooks', { kind: 'clerk', credentials: cred }),
        connection('workos', 'workos', { kind: 'workos', credentials: cred, directoryId: 'd' }),
        connection('auth0', 'auth0', {
          kind: 'auth0',
          credentials: cred,
          baseUrl: 'https://t.eu.auth0.com',
        }),
        connection(
          'okta',
          'okta',
          { kind: 'okta', baseUrl: 'https://t.okta.com' },
          {
            secrets: { signing: [{ name: 'app/okta' }], apiToken: { name: 'app/okta-api' } },
            options: { orgUrl: 'https://t.okta.com' },
          },
        ),
      ]),
    ).toEqual([]);
  });

  it('refuses an API of another source, and what an API cannot do without, with pointers', () => {
    expect(
      problemsOf([
        connection('a', 'workos', { kind: 'clerk', credentials: cred }),
        connection('b', 'workos', { kind: 'workos', credentials: cred }),
        connection('c', 'auth0', { kind: 'auth0', credentials: cred }),
        connection(
          'd',
          'okta',
          { kind: 'okta', baseUrl: 'https://t.okta.com' },
          { options: { orgUrl: 'https://t.okta.com' } },
        ),
        connection('e', 'standard-webhooks', { kind: 'clerk' }),
        connection('f', 'workos', {
          kind: 'workos',
          credentials: cred,
          directoryId: 'd',
          pageSize: 101,
        }),
      ]),
    ).toEqual([
      {
        path: '/connections/0/reconcile/api/kind',
        message: '"clerk" lists users of a standard-webhooks source, not of "workos"',
      },
      { path: '/connections/1/reconcile/api', message: 'workos needs directoryId' },
      { path: '/connections/2/reconcile/api', message: "auth0 needs baseUrl, the tenant's origin" },
      {
        path: '/connections/3/reconcile/api',
        message: "okta needs credentials (or the connection's secrets.apiToken)",
      },
      {
        path: '/connections/4/reconcile/api',
        message: "clerk needs credentials, the API credential's secret",
      },
      { path: '/connections/5/reconcile/api/pageSize', message: 'must be at most 100 for workos' },
    ]);
  });

  it('createSourceUserLister refuses a connection built in code with a mismatched API', () => {
    const clock = fakeClock();
    const built = {
      ...connection('a', 'auth0', {
        kind: 'okta',
        baseUrl: 'https://t.okta.com',
        credentials: cred,
      }),
      mapping: {},
      delivery: 'sync',
      options: {},
    } as unknown as Connection;
    expect(() =>
      createSourceUserLister(built, {
        fetch,
        secrets: createFileSecretSource({ path: 'x', readFile: () => '{}' }),
        now: clock.now,
        sleep: clock.sleep,
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('SOURCE_APIS_URL', () => {
  it("replaces the origin of a stand-in's base URL and keeps its path", () => {
    expect(localSourceApiUrl('http://127.0.0.1:3300/clerk', 'http://127.0.0.1:4567')).toBe(
      'http://127.0.0.1:4567/clerk',
    );
    expect(localSourceApiUrl('http://127.0.0.1:3300/okta/', 'http://localhost:9/x')).toBe(
      'http://localhost:9/okta',
    );
    expect(localSourceApiUrl('http://127.0.0.1:3300/clerk', undefined)).toBe(
      'http://127.0.0.1:3300/clerk',
    );
    const moved = withLocalSourceApi(
      { id: 'c', reconcile: { api: { kind: 'clerk', baseUrl: 'http://127.0.0.1:3300/clerk' } } },
      'http://127.0.0.1:4000',
    );
    expect(moved.reconcile?.api.baseUrl).toBe('http://127.0.0.1:4000/clerk');
  });
});

describe('credentials and rate-limit headers', () => {
  const secrets = createFileSecretSource({
    path: 's.json',
    readFile: () =>
      JSON.stringify({ plain: 'sk_plain', json: { secretKey: 'sk_json', other: 'x' } }),
  });

  it('reads a plain secret, a JSON one by its default key, or the key named', async () => {
    await expect(readCredential(secrets, { name: 'plain' }, 'secretKey')).resolves.toBe('sk_plain');
    await expect(readCredential(secrets, { name: 'json' }, 'secretKey')).resolves.toBe('sk_json');
    await expect(
      readCredential(secrets, { name: 'json', key: 'other' }, 'secretKey'),
    ).resolves.toBe('x');
    await expect(readCredential(secrets, { name: 'missing' }, 'secretKey')).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
    });
  });

  const response = (headers: Record<string, string>) => ({
    status: 429,
    ok: false,
    headers: new Headers(headers),
    body: null,
    text: async () => '',
    json: async () => ({}),
  });
  const now = Date.parse('2026-01-01T00:00:00.000Z');

  it('waits as Retry-After (seconds or a date) or the reset header (epoch seconds) says', () => {
    expect(rateLimitWaitMs(response({ 'retry-after': '7' }), now)).toBe(7000);
    expect(rateLimitWaitMs(response({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(
      5000,
    );
    expect(rateLimitWaitMs(response({ 'x-rate-limit-reset': String(now / 1000 + 9) }), now)).toBe(
      9000,
    );
    expect(rateLimitWaitMs(response({ 'x-ratelimit-reset': String(now / 1000 + 2) }), now)).toBe(
      2000,
    );
    // Okta's concurrency 429 says 0: no time given, so the default backoff applies.
    expect(rateLimitWaitMs(response({ 'x-rate-limit-reset': '0' }), now)).toBeUndefined();
    expect(rateLimitWaitMs(response({}), now)).toBeUndefined();
  });
});
