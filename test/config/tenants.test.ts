import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../lib/config/load.ts';
import { tenantIdOf, tenantSettingsOf } from '../../lib/config/tenants.ts';
import type { ConfigError } from '../../lib/errors.ts';
import { compileConfigValidator } from '../helpers/config-validator.ts';
import { contractOptionSchemas } from './fixtures/contract-option-schemas.ts';

const contract = compileConfigValidator(contractOptionSchemas);

const connection = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  source: 'standard-webhooks',
  userStoreId: 'store-1',
  secrets: { signing: [{ name: `app/${id}`, key: 'signingSecret' }] },
  resolve: { by: 'email' },
  ...extra,
});

const withTenants = (tenants: unknown, connections: unknown[]) => ({
  ciam: {
    credentials: { name: 'ciam/default' },
    endpoint: 'https://ciam.intl.tencentcloudapi.com',
    timeoutMs: 3000,
  },
  tenants,
  connections,
});

const problemsOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    return (error as ConfigError).details as { path: string; message: string }[];
  }
  throw new Error('expected a ConfigError');
};

describe('config tenants', () => {
  it("fills a tenant's endpoint, region and timeout from the ciam block", () => {
    const config = parseConfig(
      withTenants(
        {
          acme: { credentials: { name: 'ciam/acme' } },
          globex: { credentials: { name: 'ciam/globex' }, endpoint: 'https://other.example' },
        },
        [
          connection('a'),
          connection('b', { tenant: 'acme' }),
          connection('c', { tenant: 'globex' }),
        ],
      ),
      contract,
    );
    expect(config.tenants).toEqual({
      acme: {
        credentials: { name: 'ciam/acme' },
        endpoint: 'https://ciam.intl.tencentcloudapi.com',
        region: 'ap-singapore',
        timeoutMs: 3000,
      },
      globex: {
        credentials: { name: 'ciam/globex' },
        endpoint: 'https://other.example',
        region: 'ap-singapore',
        timeoutMs: 3000,
      },
    });
    expect(config.connections.map(tenantIdOf)).toEqual(['default', 'acme', 'globex']);
    expect(tenantSettingsOf(config, 'default')).toBe(config.ciam);
    expect(tenantSettingsOf(config, 'globex').credentials.name).toBe('ciam/globex');
    expect(() => tenantSettingsOf(config, 'nobody')).toThrow(/No tenant "nobody"/);
  });

  it('refuses an unknown tenant, a tenant named default and a malformed id, with their pointers', () => {
    const problems = problemsOf(() =>
      parseConfig(
        withTenants(
          {
            default: { credentials: { name: 'ciam/x' } },
            'bad id': { credentials: { name: 'ciam/y' } },
            nocreds: {},
          },
          [connection('a', { tenant: 'acme' }), connection('b', { tenant: 'default' })],
        ),
        contract,
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '/tenants/default', message: expect.stringContaining('ciam block') },
        { path: '/tenants', message: expect.stringContaining('"bad id"') },
        { path: '/tenants/nocreds', message: expect.stringContaining('credentials') },
        { path: '/connections/0/tenant', message: '"acme" is not a key of tenants' },
      ]),
    );
    // `tenant: "default"` names the ciam block.
    expect(problems.some(({ path }) => path === '/connections/1/tenant')).toBe(false);
  });

  it('points every tenant at CIAM_ENDPOINT, and CIAM_CREDENTIALS_SECRET_NAME at the default only', () => {
    const text = JSON.stringify(
      withTenants({ acme: { credentials: { name: 'ciam/acme' }, endpoint: 'https://a.example' } }, [
        connection('a'),
        connection('b', { tenant: 'acme' }),
      ]),
    );
    const config = loadConfig(
      {
        configPath: 'c.json',
        ciamEndpoint: 'http://127.0.0.1:3100',
        credentialsSecretName: 'stage/ciam',
      },
      { readFile: () => text, validate: contract },
    );
    expect(config.ciam).toMatchObject({
      endpoint: 'http://127.0.0.1:3100',
      credentials: { name: 'stage/ciam' },
    });
    expect(config.tenants?.acme).toMatchObject({
      endpoint: 'http://127.0.0.1:3100',
      credentials: { name: 'ciam/acme' },
    });
  });
});
