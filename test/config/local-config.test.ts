import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.ts';
import { buildConfigSchema } from '../../lib/config/schema.ts';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import { createTencentCredentials } from '../../lib/secrets/tencent-credentials.ts';
import { compileConfigValidator } from '../helpers/config-validator.ts';
import { contractOptionSchemas } from './fixtures/contract-option-schemas.ts';

const root = new URL('../../', import.meta.url);
const readText = (path: string) => readFileSync(new URL(path, root), 'utf8');
const localJson = () => JSON.parse(readText('config/local.json')) as Record<string, unknown>;

const compile = (schema: object) => {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  return ajv.compile(schema);
};

describe('config/local.json (the demo config)', () => {
  const config = loadConfig(
    { configPath: 'config/local.json' },
    { readFile: readText, validate: compileConfigValidator(contractOptionSchemas) },
  );

  it('loads with the contract option schemas', () => {
    expect(config.ciam).toMatchObject({
      endpoint: 'http://127.0.0.1:3100',
      credentials: { name: 'ciam-webhook-adapter/ciam-credentials' },
    });
    expect(config.connections.map((c) => [c.id, c.source])).toEqual([
      ['clerk', 'standard-webhooks'],
      ['clerk-queued', 'standard-webhooks'],
      ['workos', 'workos'],
      ['auth0', 'auth0'],
      ['hmac', 'hmac'],
      ['acme-hmac', 'hmac'],
      ['scim', 'scim'],
    ]);
    // The second demo tenant: its own credentials, the rest taken from the ciam block.
    expect(config.tenants).toEqual({
      acme: {
        credentials: { name: 'ciam-webhook-adapter/acme-ciam-credentials' },
        endpoint: 'http://127.0.0.1:3100',
        region: 'ap-singapore',
        timeoutMs: 5000,
      },
    });
    for (const connection of config.connections) {
      expect(connection).toMatchObject({
        userStoreId: connection.tenant === 'acme' ? 'acme-store' : 'local-store',
        resolve: { by: 'indexedAttribute', index: 1 },
        delivery: connection.id === 'clerk-queued' ? 'queued' : 'sync',
      });
    }
  });

  it('validates against buildConfigSchema compiled directly', () => {
    const validate = compile(buildConfigSchema(contractOptionSchemas));
    expect(validate(localJson()), JSON.stringify(validate.errors)).toBe(true);
  });

  it('has every referenced secret in config/local-secrets.json', async () => {
    const secrets = createFileSecretSource({
      path: 'local-secrets.json',
      readFile: () => readText('config/local-secrets.json'),
    });
    const refs = config.connections.flatMap((c) => [
      ...c.secrets.signing,
      ...(c.secrets.apiToken ? [c.secrets.apiToken] : []),
    ]);
    for (const ref of refs) await expect(secrets.getString(ref)).resolves.not.toBe('');
    await expect(
      createTencentCredentials(secrets, config.ciam.credentials.name).get(),
    ).resolves.toStrictEqual({
      secretId: 'AKIDlocaldemo',
      secretKey: 'localdemosecret',
    });
  });
});

describe('config/schema.json', () => {
  const schema = JSON.parse(readText('config/schema.json')) as Record<string, unknown>;

  it('is the $schema of the demo config', () => {
    expect(localJson().$schema).toBe('./schema.json');
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('compiles and accepts the demo config', () => {
    const validate = compile(schema);
    expect(validate(localJson()), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects what the loader rejects', () => {
    const validate = compile(schema);
    const bad = localJson();
    (bad.connections as Record<string, unknown>[])[0] = {
      ...(bad.connections as Record<string, unknown>[])[0],
      id: 'no spaces allowed',
      mapping: { fields: { Password: 'x' } },
    };
    expect(validate(bad)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(
      expect.arrayContaining(['/connections/0/id', '/connections/0/mapping/fields']),
    );
  });
});
