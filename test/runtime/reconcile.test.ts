import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../lib/runtime/index.ts';
import { reconcileDeps } from '../../lib/runtime/reconcile.ts';
import type { SourceApiContext } from '../../lib/source-apis/types.ts';
import { createMemoryLister } from '../../local/reconcile.ts';

interface Config {
  connections: Array<{ id: string; reconcile?: unknown }>;
}

/** config/local.json with a reconcile block on the clerk connection. */
const runtime = () => {
  const config = JSON.parse(readFileSync('config/local.json', 'utf8')) as Config;
  for (const connection of config.connections) {
    if (connection.id === 'clerk') connection.reconcile = { api: { kind: 'clerk' } };
  }
  return createRuntime(
    {
      ADAPTER_CONFIG: 'adapter.json',
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: 'http://127.0.0.1:9',
    },
    {
      readFile: (path) =>
        path === 'adapter.json' ? JSON.stringify(config) : readFileSync(path, 'utf8'),
      recordOutcome: () => {},
      logger: new Logger({ logLevel: 'SILENT' }),
    },
  );
};

describe('reconcileDeps', () => {
  it('hands each connection its target, mapping and its source lister', async () => {
    const contexts: SourceApiContext[] = [];
    const deps = reconcileDeps(runtime(), {
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
    expect(deps.connection('clerk').mapper).toBe(clerk.mapper);
  });

  it('refuses a connection without a reconcile block, and an unknown one', () => {
    const deps = reconcileDeps(runtime(), { recordDrift: () => {} });
    expect(() => deps.connection('workos')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => deps.connection('nope')).toThrow(
      expect.objectContaining({ code: 'CONNECTION_NOT_FOUND' }),
    );
  });

  it('without the source API clients, listing fails with CONFIG_INVALID (a plan stops, nothing applied)', async () => {
    const deps = reconcileDeps(runtime(), { recordDrift: () => {} });
    await expect(deps.connection('clerk').lister.listPage(undefined)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
