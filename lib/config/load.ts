import type { ErrorObject, ValidateFunction } from 'ajv';
import { connectionTag } from '../ciam/field-clocks.ts';
import { legacyMarkAttribute } from '../ciam/stale-guard.ts';
import { ConfigError } from '../errors.ts';
import { checkFilter } from '../filter/index.ts';
import { parseSourceIpRange } from '../http/source-ip.ts';
import { isRecord } from '../is-record.ts';
import * as generated from '../validators/generated.js';
import { CONFIG_DEFAULTS, DEFAULT_TENANT_ID, SOURCE_IP_PATTERN } from './schema.ts';
import type { AdapterConfig, SourceApiKind, SourceType } from './types.ts';

export const DEFAULT_CONFIG_PATH = 'config/local.json';

export interface LoadConfigDeps {
  readFile: (path: string) => string;
  /**
   * Checks the config (defaults applied) against the config JSON Schema. Default: the validator
   * generated at build time for the deployed source registry (npm run build:validators), so no
   * schema compiler runs at cold start or ships in the bundle. Tests that check configs
   * against other option schemas compile their own (test/helpers/config-validator.ts).
   */
  validate?: ValidateFunction;
}

/** Where the config comes from, and what the environment replaces in it (readEnv reads these). */
export interface ConfigLocation {
  /** ADAPTER_CONFIG; default config/local.json. */
  configPath?: string | undefined;
  /**
   * CIAM_ENDPOINT: replaces `ciam.endpoint` and every tenant's endpoint; a local and test override
   * (one emulator serves every tenant), never set in a deployment.
   */
  ciamEndpoint?: string | undefined;
  /** CIAM_CREDENTIALS_SECRET_NAME: replaces `ciam.credentials.name`. */
  credentialsSecretName?: string | undefined;
}

/** One thing wrong with the config file: a JSON Pointer into it and what is wrong there. */
export interface ConfigProblem {
  path: string;
  message: string;
}

type JsonObject = Record<string, unknown>;

// The deployed registry's config validator, generated at build time (npm run build:validators).
const generatedValidate = generated.config as ValidateFunction;

const validatorOf = (deps: Omit<LoadConfigDeps, 'readFile'>): ValidateFunction =>
  deps.validate ?? generatedValidate;

const setDefault = (target: JsonObject, key: string, value: unknown): void => {
  if (target[key] === undefined) target[key] = value;
};

/**
 * Defaults go in before validation so a source whose options have required members reports them
 * against `{}`; containers of the wrong shape are left for the schema to report.
 */
const applyDefaults = (config: unknown, ciamEndpoint: string | undefined): void => {
  if (!isRecord(config)) return;
  const { ciam, connections } = config;
  if (isRecord(ciam)) {
    setDefault(ciam, 'endpoint', CONFIG_DEFAULTS.ciam.endpoint);
    setDefault(ciam, 'region', CONFIG_DEFAULTS.ciam.region);
    setDefault(ciam, 'timeoutMs', CONFIG_DEFAULTS.ciam.timeoutMs);
    if (ciamEndpoint !== undefined) ciam.endpoint = ciamEndpoint;
    // A tenant takes what it leaves out from the `ciam` block (after its defaults).
    if (isRecord(config.tenants)) {
      for (const tenant of Object.values(config.tenants)) {
        if (!isRecord(tenant)) continue;
        setDefault(tenant, 'endpoint', ciam.endpoint);
        setDefault(tenant, 'region', ciam.region);
        setDefault(tenant, 'timeoutMs', ciam.timeoutMs);
        if (ciamEndpoint !== undefined) tenant.endpoint = ciamEndpoint;
      }
    }
  }
  if (!Array.isArray(connections)) return;
  for (const connection of connections) {
    if (!isRecord(connection)) continue;
    setDefault(connection, 'mapping', {});
    setDefault(connection, 'options', {});
    setDefault(connection, 'delivery', CONFIG_DEFAULTS.connection.delivery);
    if (isRecord(connection.resolve)) {
      setDefault(connection.resolve, 'cacheTtlSeconds', CONFIG_DEFAULTS.connection.cacheTtlSeconds);
    }
  }
};

const describeError = (error: ErrorObject): ConfigProblem | undefined => {
  const path = error.instancePath === '' ? '/' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    // "must match then schema" repeats what the inner errors already say.
    case 'if':
      return undefined;
    case 'additionalProperties':
      return {
        path,
        message: `must NOT have additional property "${String(params.additionalProperty)}"`,
      };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'false schema':
      return { path, message: 'is not allowed here' };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
};

/**
 * Two connections sharing one earlier-version mark attribute would read each other's marks as their
 * own; the default name folds `-` into `_`, so `a-b` and `a_b` would collide.
 */
const sharedGuardAttributes = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const firstAt = new Map<string, number>();
  const ids = new Set<string>();
  const problems: ConfigProblem[] = [];
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || typeof connection.id !== 'string') return;
    // A duplicated id is reported as such; its guard attribute clash would only repeat it.
    if (ids.has(connection.id)) return;
    ids.add(connection.id);
    const guard = isRecord(connection.staleGuard) ? connection.staleGuard : {};
    if (guard.enabled === false) return;
    const attribute =
      typeof guard.attribute === 'string' ? guard.attribute : legacyMarkAttribute(connection.id);
    const first = firstAt.get(attribute);
    if (first === undefined) {
      firstAt.set(attribute, index);
    } else {
      problems.push({
        path: `/connections/${index}/staleGuard/attribute`,
        message: `stale-event guard attribute "${attribute}" is also used by /connections/${first}; set staleGuard.attribute`,
      });
    }
  });
  return problems;
};

/**
 * A user store's field authority may name only connections that write that store; and two
 * connections of one store must not share a clock tag (it would make their changes one writer's).
 */
const userStoreProblems = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const problems: ConfigProblem[] = [];
  const byStore = new Map<string, Map<string, string>>();
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || typeof connection.id !== 'string') return;
    if (typeof connection.userStoreId !== 'string') return;
    const tags = byStore.get(connection.userStoreId) ?? new Map<string, string>();
    byStore.set(connection.userStoreId, tags);
    const tag = connectionTag(connection.id);
    const other = tags.get(tag);
    if (other !== undefined && other !== connection.id) {
      problems.push({
        path: `/connections/${index}/id`,
        message: `shares its clock tag with connection "${other}" of the same user store; rename one`,
      });
    }
    tags.set(tag, connection.id);
  });
  const stores = isRecord(config.userStores) ? config.userStores : {};
  for (const [storeId, settings] of Object.entries(stores)) {
    const ids = new Set(byStore.get(storeId)?.values() ?? []);
    if (ids.size === 0) {
      problems.push({
        path: `/userStores/${storeId}`,
        message: 'no connection writes this user store',
      });
    }
    if (!isRecord(settings) || !isRecord(settings.authority)) continue;
    for (const [field, list] of Object.entries(settings.authority)) {
      if (!Array.isArray(list)) continue;
      list.forEach((id: unknown, position) => {
        if (typeof id === 'string' && !ids.has(id)) {
          problems.push({
            path: `/userStores/${storeId}/authority/${field}/${position}`,
            message: `"${id}" is not a connection of user store "${storeId}"`,
          });
        }
      });
    }
  }
  return problems;
};

const sourceIpShape = new RegExp(SOURCE_IP_PATTERN);

/** Each `allowedSourceIps` entry must be a network, not just shaped like one. */
const sourceIpProblems = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const problems: ConfigProblem[] = [];
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || !Array.isArray(connection.allowedSourceIps)) return;
    connection.allowedSourceIps.forEach((entry: unknown, position) => {
      // The schema reports entries of the wrong shape; only well-shaped ones are parsed here.
      if (typeof entry !== 'string' || !sourceIpShape.test(entry)) return;
      try {
        parseSourceIpRange(entry);
      } catch (error) {
        problems.push({
          path: `/connections/${index}/allowedSourceIps/${position}`,
          message: (error as Error).message,
        });
      }
    });
  });
  return problems;
};

/**
 * Each connection's filter within its limits, every operator with a value it takes; `scim`
 * connections take none. A filter the schema already refused is not checked again, so each
 * problem is reported once.
 */
const filterProblems = (config: unknown, schemaProblems: readonly string[]): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const problems: ConfigProblem[] = [];
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || connection.filter === undefined) return;
    const pointer = `/connections/${index}/filter`;
    if (connection.source === 'scim') {
      // Entra and Okta scope SCIM provisioning themselves (assignment, scoping filters), and a
      // SCIM client that got 200 for a user it sent expects that user to exist.
      problems.push({
        path: pointer,
        message:
          'scim connections take no filter: scope provisioning in the identity provider (assignments, scoping filters)',
      });
      return;
    }
    if (schemaProblems.some((path) => path === pointer || path.startsWith(`${pointer}/`))) return;
    problems.push(...checkFilter(connection.filter, pointer));
  });
  return problems;
};

/**
 * `tenants.default` would be a second name for the `ciam` block, so it is refused; a connection's
 * `tenant` must be a key of `tenants`.
 */
const tenantProblems = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config)) return [];
  const tenants = isRecord(config.tenants) ? config.tenants : {};
  const problems: ConfigProblem[] = [];
  if (Object.hasOwn(tenants, DEFAULT_TENANT_ID)) {
    problems.push({
      path: `/tenants/${DEFAULT_TENANT_ID}`,
      message: `"${DEFAULT_TENANT_ID}" is the ciam block's tenant; configure it there, or choose another id`,
    });
  }
  if (!Array.isArray(config.connections)) return problems;
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || typeof connection.tenant !== 'string') return;
    if (connection.tenant === DEFAULT_TENANT_ID || Object.hasOwn(tenants, connection.tenant)) {
      return;
    }
    problems.push({
      path: `/connections/${index}/tenant`,
      message: `"${connection.tenant}" is not a key of tenants`,
    });
  });
  return problems;
};

/** The connection source each user API belongs to (Clerk delivers through Standard Webhooks). */
export const SOURCE_OF_API: Readonly<Record<SourceApiKind, SourceType>> = {
  clerk: 'standard-webhooks',
  workos: 'workos',
  auth0: 'auth0',
  okta: 'okta',
};

/** Each user API's largest page: the most users one request may ask for. */
export const MAX_PAGE_SIZE: Readonly<Record<SourceApiKind, number>> = {
  clerk: 500,
  workos: 100,
  auth0: 100,
  okta: 200,
};

/**
 * `reconcile.api` must fit its connection: the API of the connection's own source, and what that
 * API cannot do without (a WorkOS directory, the Auth0 or Okta tenant's origin, a credential).
 */
const reconcileProblems = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const problems: ConfigProblem[] = [];
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || !isRecord(connection.reconcile)) return;
    const api = connection.reconcile.api;
    if (!isRecord(api) || typeof api.kind !== 'string' || !Object.hasOwn(SOURCE_OF_API, api.kind)) {
      return;
    }
    const kind = api.kind as SourceApiKind;
    const at = `/connections/${index}/reconcile/api`;
    if (typeof connection.source === 'string' && connection.source !== SOURCE_OF_API[kind]) {
      problems.push({
        path: `${at}/kind`,
        message: `"${kind}" lists users of a ${SOURCE_OF_API[kind]} source, not of "${connection.source}"`,
      });
    }
    if (kind === 'workos' && api.directoryId === undefined) {
      problems.push({ path: at, message: 'workos needs directoryId' });
    }
    if ((kind === 'auth0' || kind === 'okta') && api.baseUrl === undefined) {
      problems.push({ path: at, message: `${kind} needs baseUrl, the tenant's origin` });
    }
    const apiToken = isRecord(connection.secrets) ? connection.secrets.apiToken : undefined;
    if (api.credentials === undefined && !(kind === 'okta' && apiToken !== undefined)) {
      problems.push({
        path: at,
        message:
          kind === 'okta'
            ? "okta needs credentials (or the connection's secrets.apiToken)"
            : `${kind} needs credentials, the API credential's secret`,
      });
    }
    if (typeof api.pageSize === 'number' && api.pageSize > MAX_PAGE_SIZE[kind]) {
      problems.push({
        path: `${at}/pageSize`,
        message: `must be at most ${MAX_PAGE_SIZE[kind]} for ${kind}`,
      });
    }
  });
  return problems;
};

const duplicateIds = (config: unknown): ConfigProblem[] => {
  if (!isRecord(config) || !Array.isArray(config.connections)) return [];
  const firstAt = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  config.connections.forEach((connection: unknown, index) => {
    if (!isRecord(connection) || typeof connection.id !== 'string') return;
    const first = firstAt.get(connection.id);
    if (first === undefined) {
      firstAt.set(connection.id, index);
    } else {
      problems.push({
        path: `/connections/${index}/id`,
        message: `duplicates connection id "${connection.id}" (first at /connections/${first})`,
      });
    }
  });
  return problems;
};

const invalid = (origin: string, problems: ConfigProblem[], cause?: unknown): ConfigError =>
  new ConfigError(
    `${origin} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map(({ path, message }) => `  ${path}: ${message}`).join('\n'),
    { details: problems, ...(cause === undefined ? {} : { cause }) },
  );

const check = (
  json: unknown,
  validate: ValidateFunction,
  origin: string,
  ciamEndpoint?: string,
): AdapterConfig => {
  const config: unknown = structuredClone(json);
  applyDefaults(config, ciamEndpoint);
  const valid = validate(config);

  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  const schemaProblems = valid ? [] : (validate.errors ?? []).map(describeError);
  for (const problem of [
    ...schemaProblems,
    ...filterProblems(
      config,
      schemaProblems.flatMap((problem) => (problem === undefined ? [] : [problem.path])),
    ),
    ...duplicateIds(config),
    ...tenantProblems(config),
    ...sharedGuardAttributes(config),
    ...userStoreProblems(config),
    ...sourceIpProblems(config),
    ...reconcileProblems(config),
  ]) {
    const key = problem && `${problem.path}\n${problem.message}`;
    if (problem === undefined || key === undefined || seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  if (problems.length > 0) throw invalid(origin, problems);

  const { $schema: _schema, ...rest } = config as JsonObject;
  return rest as unknown as AdapterConfig;
};

/**
 * Validates an already-parsed config and applies its defaults; throws ConfigError listing every
 * problem. `validate` as in LoadConfigDeps (default: the deployed registry's generated validator).
 */
export const parseConfig = (
  json: unknown,
  validate: ValidateFunction = generatedValidate,
): AdapterConfig => check(json, validate, 'config');

/**
 * Reads the config file (ADAPTER_CONFIG, default `config/local.json`) once at cold start. A CIAM
 * endpoint from the environment replaces `ciam.endpoint` (the local emulator in `npm start` and
 * tests); a credentials secret name replaces `ciam.credentials.name` (serverless.yml's per-stage
 * param, so one config file can serve stages whose Tencent credentials differ).
 */
export const loadConfig = (location: ConfigLocation, deps: LoadConfigDeps): AdapterConfig => {
  const validate = validatorOf(deps);
  const path = location.configPath || DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = deps.readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalid(path, [{ path: '/', message: `cannot read the file: ${reason}` }], error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalid(path, [{ path: '/', message: `is not valid JSON: ${reason}` }]);
  }
  const credentials = location.credentialsSecretName || undefined;
  if (credentials !== undefined && isRecord(json) && isRecord(json.ciam)) {
    json = { ...json, ciam: { ...json.ciam, credentials: { name: credentials } } };
  }
  return check(json, validate, path, location.ciamEndpoint || undefined);
};
