import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpFetch } from '../../lib/fetch.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import type { SourceApiContext } from '../../lib/source-apis/types.ts';
import { createMemoryLister } from '../../local/reconcile.ts';
import { type SourceApiStandIns, startSourceApiStandIns } from '../../local/source-apis.ts';

/** config/local.json, whose clerk, workos and auth0 connections name the stand-ins' APIs. */
const runtime = () =>
  createRuntime(
    {
      ADAPTER_CONFIG: 'config/local.json',
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: 'http://127.0.0.1:9',
    },
    {
      readFile: (path) => readFileSync(path, 'utf8'),
      recordOutcome: () => {},
      logger: new Logger({ logLevel: 'SILENT' }),
    },
  );

describe('reconcileDeps', () => {
  let standIns: SourceApiStandIns;
  beforeAll(async () => {
    standIns = await startSourceApiStandIns();
  });
  afterAll(() => standIns.close());

  it("hands each connection its target, mapping, source lister and its tenant's CIAM", async () => {
    const contexts: SourceApiContext[] = [];
    const built = runtime();
    const deps = reconcileDeps(built, {
      createLister: (connection, context) => {
        contexts.push(context);
        expect(connection.id).toBe('clerk');
        return createMemoryLister([]);
      },
      recordDrift: () => {},
    });
    const clerk = deps.connection('clerk');
    expect(clerk.target).toMatchObject({ id: 'clerk', userStoreId: 'local-store' });
    expect(clerk.target.guard?.attribute).toBe('adapter_field_clocks');
    expect(await clerk.lister.listPage(undefined)).toEqual({ users: [], next: undefined });
    expect(contexts).toHaveLength(1);
    // The global fetch, not the runtime's keep-alive one (Auth0's gzip export needs arrayBuffer).
    expect(contexts[0]?.fetch).toBe(globalThis.fetch);
    expect(contexts[0]?.fetch).not.toBe(built.fetch);
    expect(deps.connection('clerk').mapper).toBe(clerk.mapper);
    expect(clerk.ciam).toBe(built.tenants.byId('default').ciam);
    expect(clerk.resolver).toBe(built.tenants.byId('default').resolver);

    const acme = reconcileDeps(built, {
      lister: createMemoryLister([]),
      recordDrift: () => {},
    }).connection('acme-hmac');
    expect(acme.ciam).toBe(built.tenants.byId('acme').ciam);
    expect(acme.resolver).toBe(built.tenants.byId('acme').resolver);
    expect(acme.ciam).not.toBe(built.tenants.byId('default').ciam);
  });

  it("lists through the source's real client by default, at the stand-ins' origin when told", async () => {
    const urls: string[] = [];
    const counting: HttpFetch = (input, init) => {
      urls.push(String(input));
      return globalThis.fetch(input, init);
    };
    const deps = reconcileDeps(runtime(), {
      fetch: counting,
      sourceApisUrl: standIns.url,
      recordDrift: () => {},
    });
    const page = await deps.connection('clerk').lister.listPage(undefined);
    expect(page.users.map((user) => user.externalId)).toEqual([
      'ext-alice',
      'ext-bob',
      'ext-carol',
      'ext-dave',
    ]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url.startsWith(`${standIns.url}/clerk/`)).toBe(true);
  });

  it('refuses a connection without a reconcile block, and an unknown one', () => {
    const deps = reconcileDeps(runtime(), { recordDrift: () => {} });
    expect(() => deps.connection('hmac')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => deps.connection('nope')).toThrow(
      expect.objectContaining({ code: 'CONNECTION_NOT_FOUND' }),
    );
  });
});
