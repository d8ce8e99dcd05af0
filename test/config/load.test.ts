import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../lib/config/load.ts';
import type { ConfigError } from '../../lib/errors.ts';
import { compileConfigValidator } from '../helpers/config-validator.ts';
import { contractOptionSchemas } from './fixtures/contract-option-schemas.ts';

const contract = compileConfigValidator(contractOptionSchemas);

const clerk = (): Record<string, unknown> => ({
  id: 'clerk',
  source: 'standard-webhooks',
  userStoreId: 'store-1',
  secrets: { signing: [{ name: 'app/clerk', key: 'signingSecret' }] },
  resolve: { by: 'email' },
});

const minimal = () => ({
  ciam: { credentials: { name: 'ciam/creds' } } as Record<string, unknown>,
  connections: [clerk()],
});

const problemsOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', statusCode: 500 });
    return (error as ConfigError).details as { path: string; message: string }[];
  }
  throw new Error('expected a ConfigError');
};

const files = (content: Record<string, string>) => (path: string) => {
  const text = content[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
};

describe('config/load', () => {
  it('refuses two connections whose stale-event guards would share one guard attribute', () => {
    const config = {
      ...minimal(),
      connections: [
        { ...clerk(), id: 'a-b' },
        { ...clerk(), id: 'a_b' },
        { ...clerk(), id: 'c', staleGuard: { attribute: 'shared' } },
        { ...clerk(), id: 'd', staleGuard: { attribute: 'shared' } },
        { ...clerk(), id: 'e', staleGuard: { enabled: false, attribute: 'shared' } },
      ],
    };
    expect(problemsOf(() => parseConfig(config, contract))).toEqual([
      {
        path: '/connections/1/staleGuard/attribute',
        message: expect.stringContaining('"adapter_watermark_a_b" is also used by /connections/0'),
      },
      {
        path: '/connections/3/staleGuard/attribute',
        message: expect.stringContaining('"shared" is also used by /connections/2'),
      },
    ]);
  });

  it('applies the defaults to a minimal config', () => {
    const config = parseConfig(minimal(), contract);
    expect(config).toStrictEqual({
      ciam: {
        endpoint: 'https://ciam.tencentcloudapi.com',
        region: 'ap-singapore',
        credentials: { name: 'ciam/creds' },
        timeoutMs: 5000,
      },
      connections: [
        {
          id: 'clerk',
          source: 'standard-webhooks',
          userStoreId: 'store-1',
          secrets: { signing: [{ name: 'app/clerk', key: 'signingSecret' }] },
          resolve: { by: 'email', cacheTtlSeconds: 300 },
          mapping: {},
          delivery: 'sync',
          options: {},
        },
      ],
    });
  });

  it('keeps explicit values over defaults and drops $schema', () => {
    const json = {
      $schema: './schema.json',
      ciam: {
        endpoint: 'https://ciam.example.com',
        region: 'ap-guangzhou',
        credentials: { name: 'c' },
        timeoutMs: 2000,
      },
      connections: [
        {
          ...clerk(),
          secrets: {
            signing: [{ name: 'new' }, { name: 'old' }],
            apiToken: { name: 'token', key: 'apiToken' },
          },
          resolve: { by: 'indexedAttribute', index: 3, cacheTtlSeconds: 0 },
          mapping: {
            defaultPhoneRegion: 'SG',
            phoneFormat: 'international',
            fields: {
              Nickname: 'change.attributes.givenName',
              IndexedAttribute3: 'subject.externalId',
            },
            omit: ['PhoneNumber'],
            customAttributeType: 'STRING',
          },
          delivery: 'queued',
          options: { toleranceSeconds: 60 },
        },
      ],
    };
    const config = parseConfig(json, contract);
    expect(config).not.toHaveProperty('$schema');
    expect(config.ciam).toStrictEqual(json.ciam);
    expect(config.connections[0]).toStrictEqual(json.connections[0]);
  });

  it('does not modify its input', () => {
    const json = minimal();
    parseConfig(json, contract);
    expect(json).toStrictEqual(minimal());
  });

  it('lists every problem of an invalid config at once', () => {
    const json = minimal();
    const base = clerk();
    json.connections.push(
      { ...base, id: 'bad id!' },
      { ...base }, // duplicate of "clerk"
      { ...base, id: 'mystery', source: 'carrier-pigeon' },
      { ...base, id: 'mapped', mapping: { fields: { UserId: 'x', Email: '' } } },
      { ...base, id: 'auth0', source: 'auth0', options: { auth: 'kerberos' } },
      { ...base, id: 'okta', source: 'okta' },
    );
    const problems = problemsOf(() => parseConfig(json, contract));
    const at = (path: string) => problems.filter((p) => p.path === path);

    expect(at('/connections/1/id')).toHaveLength(1);
    expect(at('/connections/2/id')[0]?.message).toContain('clerk');
    expect(at('/connections/3/source')[0]?.message).toContain('standard-webhooks');
    expect(at('/connections/4/mapping/fields')[0]?.message).toContain('UserId');
    expect(at('/connections/4/mapping/fields/Email')).toHaveLength(1);
    expect(at('/connections/5/options/auth')).toHaveLength(1);
    expect(at('/connections/6/options')[0]?.message).toContain('orgUrl');
    expect(problems).toHaveLength(7);
  });

  it('names every problem in the error message too', () => {
    const base = minimal();
    base.ciam.timeoutMs = -1;
    const json = { ...base, extra: true };
    try {
      parseConfig(json, contract);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      const { message, details } = error as ConfigError;
      for (const { path } of details as { path: string }[]) expect(message).toContain(path);
      expect(details).toHaveLength(2);
    }
  });

  it('requires an index for indexedAttribute resolution and rejects it elsewhere', () => {
    const json = minimal();
    json.connections.push(
      { ...clerk(), id: 'a', resolve: { by: 'indexedAttribute' } },
      { ...clerk(), id: 'b', resolve: { by: 'indexedAttribute', index: 6 } },
      { ...clerk(), id: 'c', resolve: { by: 'email', index: 1 } },
    );
    const paths = problemsOf(() => parseConfig(json, contract)).map((p) => p.path);
    expect(paths).toEqual([
      '/connections/1/resolve',
      '/connections/2/resolve/index',
      '/connections/3/resolve/index',
    ]);
  });

  it('accepts one or two signing secrets, no more and no fewer', () => {
    const json = minimal();
    const ref = { name: 's' };
    json.connections.push(
      { ...clerk(), id: 'none', secrets: { signing: [] } },
      { ...clerk(), id: 'three', secrets: { signing: [ref, ref, ref] } },
    );
    const paths = problemsOf(() => parseConfig(json, contract)).map((p) => p.path);
    expect(paths).toEqual(['/connections/1/secrets/signing', '/connections/2/secrets/signing']);
  });

  it('validates the mapping omit list, phone region and phone format', () => {
    const json = minimal();
    json.connections.push({
      ...clerk(),
      id: 'm',
      mapping: { omit: ['UserStoreId'], defaultPhoneRegion: 'sg', phoneFormat: 'national' },
    });
    const problems = problemsOf(() => parseConfig(json, contract));
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/connections/1/mapping/defaultPhoneRegion',
      '/connections/1/mapping/omit/0',
      '/connections/1/mapping/phoneFormat',
    ]);
    expect(problems.find((p) => p.path.endsWith('phoneFormat'))?.message).toBe(
      'must be one of "e164", "international"',
    );
  });

  it('takes either phone format and leaves it unset by default', () => {
    const json = minimal();
    json.connections.push(
      { ...clerk(), id: 'e', mapping: { phoneFormat: 'e164' } },
      { ...clerk(), id: 'i', mapping: { phoneFormat: 'international' } },
    );
    const config = parseConfig(json, contract);
    expect(config.connections.map((c) => c.mapping.phoneFormat)).toEqual([
      undefined,
      'e164',
      'international',
    ]);
  });

  it('lets a mapping name the fields a mapping sets, not UserId or UserStoreId', () => {
    const json = minimal();
    json.connections.push(
      {
        ...clerk(),
        id: 'ok',
        mapping: { fields: { IndexedAttribute5: 'raw.id', UserOrg: 'raw.org' }, omit: ['Email'] },
      },
      { ...clerk(), id: 'bad', mapping: { fields: { UserStoreId: '"s"' }, omit: ['UserId'] } },
    );
    const paths = problemsOf(() => parseConfig(json, contract)).map((p) => p.path);
    expect(paths.sort()).toEqual([
      '/connections/2/mapping/fields',
      '/connections/2/mapping/omit/0',
    ]);
  });

  it('reports a config that is not an object', () => {
    expect(problemsOf(() => parseConfig([], contract))).toEqual([
      { path: '/', message: 'must be object' },
    ]);
  });

  it('reads the file named by ADAPTER_CONFIG, defaulting to config/local.json', () => {
    const text = JSON.stringify(minimal());
    const deps = { validate: contract };
    expect(
      loadConfig({}, { ...deps, readFile: files({ 'config/local.json': text }) }).connections,
    ).toHaveLength(1);
    expect(
      loadConfig({ configPath: 'x/y.json' }, { ...deps, readFile: files({ 'x/y.json': text }) })
        .connections,
    ).toHaveLength(1);
  });

  it('lets CIAM_ENDPOINT override the endpoint', () => {
    const json = minimal();
    json.ciam.endpoint = 'https://ciam.tencentcloudapi.com';
    const deps = {
      validate: contract,
      readFile: files({ 'config/local.json': JSON.stringify(json) }),
    };
    expect(loadConfig({ ciamEndpoint: 'http://127.0.0.1:4567' }, deps).ciam.endpoint).toBe(
      'http://127.0.0.1:4567',
    );
    expect(loadConfig({ ciamEndpoint: '' }, deps).ciam.endpoint).toBe(
      'https://ciam.tencentcloudapi.com',
    );
  });

  it('lets CIAM_CREDENTIALS_SECRET_NAME name the Tencent credentials secret instead of the file', () => {
    const deps = {
      validate: contract,
      readFile: files({ 'config/local.json': JSON.stringify(minimal()) }),
    };
    const fromFile = loadConfig({}, deps).ciam.credentials.name;
    expect(
      loadConfig({ credentialsSecretName: 'ciam-webhook-adapter/prod/ciam' }, deps).ciam
        .credentials,
    ).toEqual({ name: 'ciam-webhook-adapter/prod/ciam' });
    expect(loadConfig({ credentialsSecretName: '' }, deps).ciam.credentials.name).toBe(fromFile);
  });

  it('validates the CIAM_ENDPOINT override', () => {
    const deps = {
      validate: contract,
      readFile: files({ 'config/local.json': JSON.stringify(minimal()) }),
    };
    expect(problemsOf(() => loadConfig({ ciamEndpoint: 'ftp://x' }, deps))[0]?.path).toBe(
      '/ciam/endpoint',
    );
  });

  it('fails with CONFIG_INVALID when the file is missing or not JSON', () => {
    const deps = { validate: contract };
    expect(problemsOf(() => loadConfig({}, { ...deps, readFile: files({}) }))).toHaveLength(1);
    expect(
      problemsOf(() =>
        loadConfig({}, { ...deps, readFile: files({ 'config/local.json': '{ "ciam": ' }) }),
      ),
    ).toHaveLength(1);
  });

  it('checks against the generated validator of the deployed registry when given no validator', () => {
    // The contract schema has no upper bound on toleranceSeconds; the deployed one allows 3600.
    const json = minimal();
    json.connections[0] = { ...clerk(), options: { toleranceSeconds: 7200 } };
    expect(parseConfig(json, contract).connections).toHaveLength(1);
    expect(problemsOf(() => parseConfig(json))).toEqual([
      { path: '/connections/0/options/toleranceSeconds', message: 'must be <= 3600' },
    ]);
    const readFile = files({ 'config/local.json': JSON.stringify(json) });
    expect(problemsOf(() => loadConfig({}, { readFile }))).toHaveLength(1);
  });

  it('validates options against the schemas it is given, per registry', () => {
    const strict = {
      ...contractOptionSchemas,
      'standard-webhooks': { type: 'object', required: ['toleranceSeconds'] },
    };
    expect(parseConfig(minimal(), contract).connections).toHaveLength(1);
    expect(problemsOf(() => parseConfig(minimal(), compileConfigValidator(strict)))).toEqual([
      { path: '/connections/0/options', message: "must have required property 'toleranceSeconds'" },
    ]);
    expect(parseConfig(minimal(), contract).connections).toHaveLength(1);
  });
});
