import type { Options } from 'ajv';
import {
  DEFAULT_PHONE_FORMAT,
  MAPPABLE_FIELDS,
  PHONE_FORMATS,
} from '../ciam/update-user-fields.ts';
import { FILTER_LIMITS, FILTER_OPERATORS } from '../filter/index.ts';
import type { SourceType } from './types.ts';

export const CONNECTION_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/** A `tenants` key; `default` names the `ciam` block and is refused as a key (see load.ts). */
export const TENANT_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/** The tenant of connections that name none: the `ciam` block. */
export const DEFAULT_TENANT_ID = 'default';

/** The shape of an `allowedSourceIps` entry; the loader then parses each as a network. */
export const SOURCE_IP_PATTERN = '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$';

export const CONFIG_DEFAULTS = {
  ciam: { endpoint: 'https://ciam.tencentcloudapi.com', region: 'ap-singapore', timeoutMs: 5000 },
  connection: { delivery: 'sync', cacheTtlSeconds: 300 },
} as const;

const ciamEndpoint = { type: 'string', format: 'uri', pattern: '^https?://' } as const;
const ciamRegion = { type: 'string', pattern: '^[a-z]+(-[a-z0-9]+)+$' } as const;
const ciamTimeoutMs = { type: 'integer', minimum: 1, maximum: 300000 } as const;

/** One CIAM target of `tenants`: what it leaves out is taken from the `ciam` block. */
const tenant = {
  type: 'object',
  required: ['credentials'],
  additionalProperties: false,
  properties: {
    credentials: {
      $ref: '#/definitions/secretRef',
      description: 'Secret holding this tenant\'s {"SecretId","SecretKey","Token"?}.',
    },
    endpoint: { ...ciamEndpoint, description: 'Default: ciam.endpoint.' },
    region: { ...ciamRegion, description: 'Default: ciam.region.' },
    timeoutMs: { ...ciamTimeoutMs, description: 'Default: ciam.timeoutMs.' },
  },
};

const secretRef = {
  type: 'object',
  description:
    'A Secrets Manager secret name or ARN, and the JSON key when the secret is an object.',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    key: { type: 'string', minLength: 1 },
  },
};

const resolve = {
  type: 'object',
  description: 'How the CIAM UserId is found for a change.',
  required: ['by'],
  additionalProperties: false,
  properties: {
    by: { enum: ['userId', 'email', 'phone', 'indexedAttribute'] },
    index: { type: 'integer', enum: [1, 2, 3, 4, 5] },
    cacheTtlSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 86400,
      default: CONFIG_DEFAULTS.connection.cacheTtlSeconds,
    },
  },
  if: { properties: { by: { const: 'indexedAttribute' } }, required: ['by'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword, not a thenable
  then: { required: ['index'] },
  else: { properties: { index: false } },
};

const userStore = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clockAttribute: {
      type: 'string',
      pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
      description:
        'The CIAM custom attribute holding the field clocks of every user of the store; define it in the user store. Default adapter_field_clocks.',
    },
    authority: {
      type: 'object',
      description:
        'Per field (an UpdateUser field, or custom:<name> for a custom attribute): the connections that may set it, highest precedence first. A connection not listed never sets the field.',
      // patternProperties, not propertyNames: ajv's standalone code for propertyNames errors
      // does not compile.
      patternProperties: {
        '^(UserName|PhoneNumber|Email|Nickname|Address|Birthdate|IndexedAttribute[1-5]|custom:.+)$':
          {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { type: 'string', pattern: CONNECTION_ID_PATTERN },
          },
      },
      additionalProperties: false,
    },
  },
};

const reconcile = {
  type: 'object',
  description:
    "Backfill and reconciliation: list every user through the source's own API and bring CIAM into agreement (npm run reconcile).",
  required: ['api'],
  additionalProperties: false,
  properties: {
    api: {
      type: 'object',
      required: ['kind'],
      additionalProperties: false,
      properties: {
        kind: {
          enum: ['clerk', 'workos', 'auth0', 'okta'],
          description:
            'The user API: clerk (a standard-webhooks connection fed by Clerk), workos, auth0 or okta.',
        },
        baseUrl: {
          type: 'string',
          format: 'uri',
          pattern: '^https?://',
          description:
            "Default https://api.clerk.com (clerk), https://api.workos.com (workos); the tenant's origin for auth0 and okta.",
        },
        credentials: {
          $ref: '#/definitions/secretRef',
          description:
            "The API credential's secret; for okta the connection's secrets.apiToken by default.",
        },
        directoryId: {
          type: 'string',
          minLength: 1,
          maxLength: 128,
          description: 'WorkOS: the directory whose users are listed.',
        },
        pageSize: { type: 'integer', minimum: 1, maximum: 500 },
      },
    },
    maxChanges: {
      type: 'integer',
      minimum: 0,
      description:
        'A plan with more changes than this stops and asks for --yes (default: 10 % of the source users, at least 10).',
    },
    orphans: {
      enum: ['report', 'freeze'],
      default: 'report',
      description:
        'CIAM users linked to this connection that the source no longer has: only reported, or frozen.',
    },
    createUnmatched: {
      type: 'boolean',
      default: false,
      description: 'Create CIAM users for source users that have none (default: only reported).',
    },
  },
};

const filterScalar = {
  type: ['string', 'number', 'boolean'],
  maxLength: FILTER_LIMITS.stringLength,
};

/**
 * A scoping filter node (docs/filters.md): a group (`all`, `any`, `not`) or a condition. The shape
 * only; the loader's checkFilter adds the limits a schema cannot count (conditions in all, depth)
 * and what each operator's value must be, with clearer messages than if/then would give.
 */
const filter = {
  type: 'object',
  description:
    'Only changes inside this filter are applied; the others are answered 200 ignored, reason filtered. A group {all: [...]}, {any: [...]} or {not: {...}}, or a condition {path, op, value}. See docs/filters.md.',
  additionalProperties: false,
  properties: {
    all: {
      type: 'array',
      description: 'Inside when every member is.',
      minItems: 1,
      maxItems: FILTER_LIMITS.conditions,
      items: { $ref: '#/definitions/filter' },
    },
    any: {
      type: 'array',
      description: 'Inside when at least one member is.',
      minItems: 1,
      maxItems: FILTER_LIMITS.conditions,
      items: { $ref: '#/definitions/filter' },
    },
    not: { $ref: '#/definitions/filter', description: 'Inside when its member is not.' },
    path: {
      type: 'string',
      description:
        "A condition's dotted path from change, update or payload, e.g. change.subject.email; at most 8 segments.",
      minLength: 1,
      maxLength: FILTER_LIMITS.stringLength,
    },
    op: { enum: [...FILTER_OPERATORS], description: "A condition's operator." },
    value: {
      description:
        'What the operator compares with: none for exists, a list for in, a number for gt and lt, a string for startsWith and endsWith.',
      anyOf: [
        filterScalar,
        { type: 'array', minItems: 1, maxItems: FILTER_LIMITS.inValues, items: filterScalar },
      ],
    },
  },
  // A group stands alone; anything else is a condition, which needs a path and an operator.
  if: { anyOf: [{ required: ['all'] }, { required: ['any'] }, { required: ['not'] }] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword, not a thenable
  then: { maxProperties: 1 },
  else: { required: ['path', 'op'] },
};

const mapping = {
  type: 'object',
  additionalProperties: false,
  properties: {
    defaultPhoneRegion: {
      type: 'string',
      pattern: '^[A-Z]{2}$',
      description: 'ISO 3166-1 alpha-2 region for phone numbers without a country code.',
    },
    phoneFormat: {
      enum: [...PHONE_FORMATS],
      default: DEFAULT_PHONE_FORMAT,
      description:
        'How PhoneNumber is written and looked up: "e164" (+6581234567) or "international" (+65 81234567).',
    },
    fields: {
      type: 'object',
      description: 'Per-field JSONata overrides over { change, attributes, raw, subject }.',
      additionalProperties: false,
      properties: Object.fromEntries(
        MAPPABLE_FIELDS.map((field) => [field, { type: 'string', minLength: 1 }]),
      ),
    },
    omit: {
      type: 'array',
      uniqueItems: true,
      items: { enum: [...MAPPABLE_FIELDS] },
    },
    customAttributeType: { type: 'string', minLength: 1 },
  },
};

/** A source's options schema, made safe to embed: only the root may carry `$schema`/`$id`. */
const embeddable = (schema: object): Record<string, unknown> => {
  const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
  return rest;
};

const requiresSomething = (schema: Record<string, unknown>): boolean =>
  Array.isArray(schema.required) && schema.required.length > 0;

/**
 * JSON Schema (draft-07) of a config file. Each connection's `options` is checked against its
 * source's options schema through `if source = X then options: schemaX`, which, unlike `oneOf`,
 * reports only the errors of the matching source.
 */
/** How the config schema is compiled (by npm run build:validators, or for another registry). */
export const CONFIG_AJV_OPTIONS: Options = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
};

export const buildConfigSchema = (sourceOptionSchemas: Record<SourceType, object>): object => {
  const sources = Object.keys(sourceOptionSchemas).sort() as SourceType[];
  const connection = {
    type: 'object',
    required: ['id', 'source', 'userStoreId', 'secrets', 'resolve'],
    additionalProperties: false,
    properties: {
      id: {
        type: 'string',
        pattern: CONNECTION_ID_PATTERN,
        description: 'Unique; the path segment of /webhooks/{id}.',
      },
      source: { enum: sources },
      tenant: {
        type: 'string',
        pattern: TENANT_ID_PATTERN,
        description:
          'The CIAM target (a key of tenants) whose credentials, endpoint and region this connection writes with; default: the ciam block.',
      },
      userStoreId: { type: 'string', minLength: 1 },
      secrets: {
        type: 'object',
        required: ['signing'],
        additionalProperties: false,
        properties: {
          signing: {
            type: 'array',
            description: 'One signing secret, two during a rotation.',
            minItems: 1,
            maxItems: 2,
            items: { $ref: '#/definitions/secretRef' },
          },
          apiToken: { $ref: '#/definitions/secretRef' },
        },
      },
      resolve: { $ref: '#/definitions/resolve' },
      mapping: { $ref: '#/definitions/mapping', default: {} },
      delivery: {
        enum: ['sync', 'queued'],
        default: CONFIG_DEFAULTS.connection.delivery,
        description:
          'sync: apply inside the request and answer the outcome. queued: store in SQS FIFO, answer 202, apply in order per user.',
      },
      staleGuard: {
        type: 'object',
        description:
          'Field clocks: a change sets only the fields where it is newer than the change that last set them, from whichever connection of the user store. On by default; sources without an event time are clocked by when the adapter received the change.',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          attribute: {
            type: 'string',
            pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
            description:
              "Where an earlier version of the adapter kept this connection's last applied change; read as the clock of the fields the connection maps until the next change writes the field clocks. Default adapter_watermark_<connection id>.",
          },
        },
      },
      allowedSourceIps: {
        type: 'array',
        description:
          'Optional: the only addresses this connection accepts requests from, as IPv4 or IPv6 CIDR blocks ("192.0.2.0/24", "2001:db8::/32") or single addresses. Checked against the source IP API Gateway reports, before any secret is read; any other address is answered 403 SOURCE_IP_NOT_ALLOWED. Without it, every address may call.',
        minItems: 1,
        maxItems: 1000,
        uniqueItems: true,
        // The shape only; every entry is parsed as a network when the config is loaded.
        items: { type: 'string', pattern: SOURCE_IP_PATTERN, maxLength: 49 },
      },
      groups: {
        type: 'object',
        description:
          'How a source group in a membership event (a user added to or removed from a group) becomes a CIAM user group. By default the CIAM group whose DisplayName equals the source group name.',
        additionalProperties: false,
        properties: {
          map: {
            type: 'object',
            description:
              'Source group id or name → CIAM UserGroupId; checked before the lookup by name (an id before a name).',
            additionalProperties: { type: 'string', minLength: 1, maxLength: 256 },
          },
          unmapped: {
            enum: ['ignore', 'refuse'],
            default: 'ignore',
            description:
              'A membership event whose group maps to no CIAM group: ignore answers it ignored (reason group_not_mapped); refuse answers 422 GROUP_NOT_MAPPED.',
          },
        },
      },
      options: { type: 'object', default: {} },
      reconcile: { $ref: '#/definitions/reconcile' },
      filter: { $ref: '#/definitions/filter' },
    },
    allOf: sources.map((source) => {
      const options = embeddable(sourceOptionSchemas[source]);
      return {
        if: { properties: { source: { const: source } }, required: ['source'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword, not a thenable
        then: {
          properties: { options },
          ...(requiresSomething(options) ? { required: ['options'] } : {}),
        },
      };
    }),
  };

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'ciam-webhook-adapter connection config',
    type: 'object',
    required: ['ciam', 'connections'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      ciam: {
        type: 'object',
        required: ['credentials'],
        additionalProperties: false,
        properties: {
          endpoint: { ...ciamEndpoint, default: CONFIG_DEFAULTS.ciam.endpoint },
          region: { ...ciamRegion, default: CONFIG_DEFAULTS.ciam.region },
          credentials: {
            $ref: '#/definitions/secretRef',
            description: 'Secret holding {"SecretId","SecretKey","Token"?}.',
          },
          timeoutMs: { ...ciamTimeoutMs, default: CONFIG_DEFAULTS.ciam.timeoutMs },
        },
      },
      tenants: {
        type: 'object',
        description:
          'Further CIAM targets (a Tencent Cloud account each), by tenant id; a connection names one with `tenant`. Connections that name none use the `ciam` block, the tenant `default`.',
        // patternProperties, not propertyNames: ajv's standalone code for propertyNames errors
        // does not compile.
        patternProperties: { [TENANT_ID_PATTERN]: { $ref: '#/definitions/tenant' } },
        additionalProperties: false,
      },
      connections: { type: 'array', minItems: 1, items: { $ref: '#/definitions/connection' } },
      userStores: {
        type: 'object',
        description:
          'Per CIAM user store (by its id): where the field clocks live, and which connections may set each field.',
        additionalProperties: { $ref: '#/definitions/userStore' },
      },
    },
    definitions: { secretRef, tenant, resolve, mapping, connection, userStore, reconcile, filter },
  };
};
