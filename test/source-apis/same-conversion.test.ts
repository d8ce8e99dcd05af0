import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserChange } from '../../lib/change.ts';
import { loadConfig } from '../../lib/config/load.ts';
import type { Connection } from '../../lib/config/types.ts';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import { createSourceUserLister, withLocalSourceApi } from '../../lib/source-apis/index.ts';
import type { SourceUser } from '../../lib/source-apis/types.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';
import { type EventName, readRequest } from '../helpers/events.ts';
import { fakeClock, listAll, standInConnection, standInContext } from '../helpers/source-apis.ts';

/**
 * A listed user makes the change its webhook makes: the same subject, attributes and raw user,
 * through the same source conversion. The stand-ins serve the very user objects the sample
 * events carry, and the demo connections of config/local.json (their reconcile.api moved to the
 * test's stand-ins, as SOURCE_APIS_URL does) list them with the demo secrets.
 */

let standIns: SourceApiStandIns;
beforeAll(async () => {
  standIns = await startSourceApiStandIns();
});
afterAll(() => standIns.close());

const readText = (path: string) => readFileSync(path, 'utf8');
const config = loadConfig({ configPath: 'config/local.json' }, { readFile: readText });
const demoSecrets = createFileSecretSource({ path: 'config/local-secrets.json' });

const webhookChange = async (
  connection: Connection,
  sample: EventName,
  fetchImpl: typeof fetch = fetch,
): Promise<UserChange> => {
  const source = SOURCES[connection.source as keyof typeof SOURCES].prepare(connection);
  const request: InboundRequest = readRequest(sample);
  const parsed = source.parse(JSON.parse(request.rawBody.toString('utf8')), request);
  const outcome = await source.toChanges(parsed, request, {
    secrets: standInContext(fakeClock()).secrets,
    fetch: fetchImpl,
    now: () => Date.parse('2025-01-01T00:00:01.000Z'),
  });
  expect(outcome.changes).toHaveLength(1);
  return outcome.changes[0] as UserChange;
};

const listed = async (connection: Connection, externalId: string): Promise<SourceUser> => {
  const lister = createSourceUserLister(connection, {
    fetch,
    secrets: demoSecrets,
    now: Date.now,
    sleep: async () => undefined,
  });
  const { users } = await listAll(lister);
  const user = users.find((candidate) => candidate.externalId === externalId);
  if (user === undefined) throw new Error(`${externalId} was not listed`);
  return user;
};

const demoConnection = (id: string): Connection => {
  const connection = config.connections.find((candidate) => candidate.id === id);
  if (connection === undefined) throw new Error(`no demo connection ${id}`);
  return withLocalSourceApi(connection, standIns.url);
};

describe('a listed user and its webhook make the same change', () => {
  it.each([
    ['clerk', 'clerk.user-updated', 'ext-alice'],
    ['workos', 'workos.user-updated', 'ext-bob'],
    ['auth0', 'auth0.user-updated', 'ext-alice'],
  ] as const)('%s (%s)', async (id, sample, externalId) => {
    const connection = demoConnection(id);
    const fromWebhook = await webhookChange(connection, sample);
    const fromApi = await listed(connection, externalId);
    expect(fromApi.change.subject).toEqual(fromWebhook.subject);
    expect(fromApi.change.attributes).toEqual(fromWebhook.attributes);
    expect(fromApi.change.raw).toEqual(
      // WorkOS's event adds previous_attributes to the user; the directory user has none.
      sample === 'workos.user-updated'
        ? (({ previous_attributes: _p, ...user }: Record<string, unknown>) => user)(
            fromWebhook.raw as Record<string, unknown>,
          )
        : fromWebhook.raw,
    );
    // The snapshot happened when the user last changed, as the webhook's change did.
    expect(fromApi.change.occurredAt).toBe(fromWebhook.occurredAt);
    expect(fromApi.change).toMatchObject({
      connectionId: id,
      eventType: 'user.snapshot',
      eventId: `snapshot:${externalId}:${fromApi.updatedAt}`,
    });
  });

  it('okta (the event hook reads the same Users API user)', async () => {
    const base = standInConnection(standIns, 'okta');
    const origin = new URL(standIns.url).origin;
    const connection: Connection = {
      ...base,
      options: { orgUrl: origin },
      secrets: { ...base.secrets, apiToken: { name: 'okta-api', key: 'apiToken' } },
    };
    // The stand-in serves Okta under /okta; the event hook path calls the org's root.
    const viaPrefix: typeof fetch = (input, init) =>
      fetch(String(input).replace(`${origin}/api/`, `${origin}/okta/api/`), init);
    const fromWebhook = await webhookChange(connection, 'okta.user-updated', viaPrefix);
    const lister = createSourceUserLister(connection, standInContext(fakeClock()));
    const { users } = await listAll(lister);
    const fromApi = users.find((user) => user.externalId === 'ext-bob');
    expect(fromApi?.change.subject).toEqual(fromWebhook.subject);
    expect(fromApi?.change.attributes).toEqual(fromWebhook.attributes);
    expect(fromApi?.change.raw).toEqual(fromWebhook.raw);
  });
});
