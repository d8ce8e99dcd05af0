import type { Connection, SourceApiConfig, SourceType } from '../../lib/config/types.ts';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import { createSourceUserLister } from '../../lib/source-apis/index.ts';
import type {
  SourceApiContext,
  SourceUser,
  SourceUserLister,
} from '../../lib/source-apis/types.ts';
import type { SourceApiName } from '../../local/source-api-users.ts';
import { DEMO_CREDENTIALS, type SourceApiStandIns } from '../../local/source-apis.ts';

/** A clock that moves only when something sleeps on it; every sleep asked for is recorded. */
export interface FakeClock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  sleeps: number[];
  advance(ms: number): void;
}

export const fakeClock = (start = Date.parse('2026-01-01T00:00:00.000Z')): FakeClock => {
  let at = start;
  const sleeps: number[] = [];
  return {
    now: () => at,
    sleep: async (ms) => {
      sleeps.push(ms);
      at += ms;
    },
    sleeps,
    advance: (ms) => {
      at += ms;
    },
  };
};

/** The stand-ins' demo credentials, as Secrets Manager would hold them. */
export const standInSecrets = (overrides: Record<string, unknown> = {}): SecretSource =>
  createFileSecretSource({
    path: 'source-api-secrets.json',
    readFile: () =>
      JSON.stringify({
        'clerk-api': { secretKey: DEMO_CREDENTIALS.clerkSecretKey },
        'workos-api': DEMO_CREDENTIALS.workosApiKey,
        'auth0-api': {
          clientId: DEMO_CREDENTIALS.auth0ClientId,
          clientSecret: DEMO_CREDENTIALS.auth0ClientSecret,
        },
        'okta-api': { apiToken: DEMO_CREDENTIALS.oktaApiToken },
        ...overrides,
      }),
  });

const SOURCE_OF: Record<SourceApiName, SourceType> = {
  clerk: 'standard-webhooks',
  workos: 'workos',
  auth0: 'auth0',
  okta: 'okta',
};

/** A connection of `api`'s source whose reconcile.api names the stand-in. */
export const standInConnection = (
  standIns: SourceApiStandIns,
  api: SourceApiName,
  extra: Partial<SourceApiConfig> = {},
): Connection => ({
  id: `${api}-conn`,
  source: SOURCE_OF[api],
  userStoreId: 'local-store',
  secrets: { signing: [{ name: 'signing' }] },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'sync',
  options: api === 'okta' ? { orgUrl: 'https://example.okta.com' } : {},
  reconcile: {
    api: {
      kind: api,
      baseUrl: standIns.baseUrl(api),
      credentials: { name: `${api}-api` },
      ...(api === 'workos' ? { directoryId: DEMO_CREDENTIALS.workosDirectoryId } : {}),
      ...extra,
    },
  },
});

export const standInContext = (
  clock: FakeClock,
  secrets: SecretSource = standInSecrets(),
): SourceApiContext => ({ fetch, secrets, now: clock.now, sleep: clock.sleep });

export const listerFor = (
  standIns: SourceApiStandIns,
  api: SourceApiName,
  clock: FakeClock,
  extra: Partial<SourceApiConfig> = {},
): SourceUserLister =>
  createSourceUserLister(standInConnection(standIns, api, extra), standInContext(clock));

/** Every page until `next` is undefined: the users, and how many users each page had. */
export const listAll = async (
  lister: SourceUserLister,
  from?: string,
): Promise<{ users: SourceUser[]; pages: number[]; cursors: (string | undefined)[] }> => {
  const users: SourceUser[] = [];
  const pages: number[] = [];
  const cursors: (string | undefined)[] = [];
  let cursor = from;
  for (let guard = 0; guard < 10_000; guard += 1) {
    cursors.push(cursor);
    const page = await lister.listPage(cursor);
    users.push(...page.users);
    pages.push(page.users.length);
    cursor = page.next;
    if (cursor === undefined) return { users, pages, cursors };
  }
  throw new Error('listing did not end');
};

/** What `promise` rejects with; fails when it resolves. */
export const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};
