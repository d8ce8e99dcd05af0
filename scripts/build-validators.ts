// `npm run build:validators`: every fixed JSON schema compiled ONCE, at build time, into plain
// validation functions with ajv's standalone code generation (lib/validators/generated.js). Compiling
// at cold start was ~59 % of the webhook function's init CPU. The same generated code
// runs in tests, `npm start` and the bundle; test/validators/generated.test.ts fails when a schema
// changed without regenerating. Rerun after changing any schema (e.g. after a merge that changes
// the config schema): `npm run build:validators`.
// Nothing is compiled at runtime: auth0's per-connection event types combine two generated
// validators, and an hmac connection's own payloadSchema is interpreted by @cfworker/json-schema
// (lib/sources/hmac/payload-schema.ts), so ajv's compiler is not in the bundles.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type Options } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import addFormats from 'ajv-formats';
import { updateUserDraftSchema, updateUserRequestSchema } from '../lib/ciam/update-user-schema.ts';
import { buildConfigSchema, CONFIG_AJV_OPTIONS } from '../lib/config/schema.ts';
import {
  auth0EnvelopeSchema,
  auth0MappedEventSchema,
  auth0OptionsSchema,
} from '../lib/sources/auth0/schema.ts';
import { hmacOptionsSchema } from '../lib/sources/hmac/schema.ts';
import {
  oktaEventHookSchema,
  oktaOptionsSchema,
  oktaUserSchema,
} from '../lib/sources/okta/schema.ts';
import { AJV_OPTIONS, OWN_PROPERTIES_AJV_OPTIONS } from '../lib/sources/shared/validation.ts';
import {
  eventSchema as clerkEventSchema,
  organizationMembershipSchema as clerkOrganizationMembershipSchema,
  userSchema as clerkUserSchema,
  standardWebhooksOptionsSchema,
} from '../lib/sources/standard-webhooks/schema.ts';
import {
  eventSchema as workosEventSchema,
  groupMembershipSchema as workosGroupMembershipSchema,
  groupSchema as workosGroupSchema,
  workosOptionsSchema,
  userSchema as workosUserSchema,
} from '../lib/sources/workos/schema.ts';
import { UPDATE_USER_AJV_OPTIONS } from '../lib/validators/options.ts';
import { SOURCE_OPTION_SCHEMAS } from './option-schemas.ts';

export const VALIDATORS_FILE = 'lib/validators/generated.js';

interface Group {
  options: Options;
  formats?: boolean;
  schemas: Record<string, object>;
}

const groups = (): Group[] => [
  {
    options: UPDATE_USER_AJV_OPTIONS,
    schemas: { updateUserRequest: updateUserRequestSchema, updateUserDraft: updateUserDraftSchema },
  },
  {
    options: AJV_OPTIONS,
    schemas: {
      hmacOptions: hmacOptionsSchema,
      workosOptions: workosOptionsSchema,
      workosEvent: workosEventSchema,
      workosUser: workosUserSchema,
      workosGroup: workosGroupSchema,
      workosGroupMembership: workosGroupMembershipSchema,
      standardWebhooksOptions: standardWebhooksOptionsSchema,
      clerkEvent: clerkEventSchema,
      clerkUser: clerkUserSchema,
      clerkOrganizationMembership: clerkOrganizationMembershipSchema,
    },
  },
  {
    options: OWN_PROPERTIES_AJV_OPTIONS,
    schemas: {
      auth0Options: auth0OptionsSchema,
      auth0Envelope: auth0EnvelopeSchema,
      auth0MappedEvent: auth0MappedEventSchema,
      oktaOptions: oktaOptionsSchema,
      oktaEventHook: oktaEventHookSchema,
      oktaUser: oktaUserSchema,
    },
  },
  {
    options: CONFIG_AJV_OPTIONS,
    formats: true,
    schemas: { config: buildConfigSchema(SOURCE_OPTION_SCHEMAS) },
  },
];

/** Every fixed schema as declared, with its group's options: what the generated code must equal. */
export const declaredValidators = (): {
  name: string;
  options: Options;
  formats: boolean;
  schema: object;
}[] =>
  groups().flatMap((group) =>
    Object.entries(group.schemas).map(([name, schema]) => ({
      name,
      options: group.options,
      formats: group.formats === true,
      schema,
    })),
  );

// --- Bundle bytes -----------------------------------------------------------------------------
// ajv emits a whole error object and push for every keyword of every subschema (allErrors), so the
// code grows with the number of keyword sites, not with what the schemas say. Rewrites of the
// *schemas*, none of which changes what is accepted, nor any error's instancePath, keyword,
// params or message (only `schemaPath`, which nothing reads, may name a shared definition):
// 1. annotations (description, title, default, ...) dropped: ajv embeds whole schemas in the code;
// 2. groups whose options differ only in build-time strictness share one Ajv, so a schema
//    embedded in another (a source's options in the config) can be one function;
// 3. members with equal schemas share one function; a subschema that occurs more than once in a
//    group is compiled once and `$ref`'d (`inlineRefs: false`), or refers to an equal member.
// And of the *code*: ajv's error pushes become calls of small helpers, and schema constants that
// nothing reads are dropped. test/validators/generated.test.ts compares the result with ajv
// compiling the declared schemas.

type SchemaObject = Record<string, unknown>;

const isSchemaObject = (value: unknown): value is SchemaObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Where draft-07 keywords hold subschemas: one, a list, or a map of them.
const ONE = new Set([
  'additionalItems',
  'additionalProperties',
  'contains',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
]);
const LIST = new Set(['allOf', 'anyOf', 'items', 'oneOf']);
const MAP = new Set(['$defs', 'definitions', 'dependencies', 'patternProperties', 'properties']);

/** A copy of `schema` with every object subschema, bottom-up, replaced by `visit`'s answer. */
const mapSchema = (
  schema: unknown,
  visit: (schema: SchemaObject, isRoot: boolean) => unknown,
  isRoot = true,
): unknown => {
  if (!isSchemaObject(schema)) return schema;
  const sub = (child: unknown): unknown => mapSchema(child, visit, false);
  const copy: SchemaObject = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (ONE.has(keyword) && isSchemaObject(value)) copy[keyword] = sub(value);
    else if (LIST.has(keyword) && Array.isArray(value)) copy[keyword] = value.map(sub);
    else if (MAP.has(keyword) && isSchemaObject(value)) {
      // `dependencies` may also hold arrays of property names: mapSchema leaves those as they are.
      copy[keyword] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sub(v)]));
    } else copy[keyword] = value;
  }
  return visit(copy, isRoot);
};

// Annotations: no effect on validation (`default` only with ajv's useDefaults, which we never set).
const ANNOTATIONS = ['$comment', 'default', 'description', 'examples', 'title'];

const withoutAnnotations = (schema: object): SchemaObject =>
  mapSchema(schema, (node) => {
    const copy = { ...node };
    for (const keyword of ANNOTATIONS) delete copy[keyword];
    return copy;
  }) as SchemaObject;

/** What two equal subschemas have in common, whether embedded or a root (without $schema/$id). */
const keyOf = (schema: SchemaObject): string => {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return JSON.stringify(rest);
};

const hasRef = (schema: SchemaObject): boolean => /"\$(ref|id)"/.test(JSON.stringify(schema));

// A subschema is worth a function of its own only if it checks more than one thing: a `$ref` call
// site costs about as much as two keywords' inline code.
const keywordCount = (schema: SchemaObject): number => {
  let count = 0;
  mapSchema(schema, (node) => {
    count += Object.keys(node).filter((k) => !MAP.has(k) && !ONE.has(k) && !LIST.has(k)).length;
    return node;
  });
  return count;
};

const SHARED_ID = 'shared';

/**
 * The group's schemas with every subschema that occurs twice or more (counting the roots) replaced
 * by a `$ref`, largest first, and the definitions those refs point to.
 */
const hoistRepeated = (
  schemas: Record<string, SchemaObject>,
): { schemas: Record<string, SchemaObject>; definitions: Record<string, SchemaObject> } => {
  let current = { ...schemas };
  const definitions: Record<string, SchemaObject> = {};
  const refs = new Map<string, string>();
  for (;;) {
    const roots = new Map(Object.entries(current).map(([name, schema]) => [keyOf(schema), name]));
    const seen = new Map<string, { count: number; schema: SchemaObject }>();
    for (const schema of [...Object.values(current), ...Object.values(definitions)]) {
      mapSchema(schema, (node, isRoot) => {
        const key = keyOf(node);
        const entry = seen.get(key) ?? { count: 0, schema: node };
        if (!isRoot || roots.has(key)) seen.set(key, { ...entry, count: entry.count + 1 });
        return node;
      });
    }
    const candidates = [...seen]
      .filter(([key, { count, schema }]) => {
        if (count < 2 || refs.has(key)) return false;
        return !hasRef(schema) && keywordCount(schema) >= 2;
      })
      .sort(([a], [b]) => b.length - a.length || (a < b ? -1 : 1));
    const next = candidates[0];
    if (next === undefined) break;
    const [key, { schema }] = next;
    const root = roots.get(key);
    let ref: string;
    if (root === undefined) {
      const name = `s${Object.keys(definitions).length}`;
      definitions[name] = schema;
      ref = `${SHARED_ID}#/definitions/${name}`;
    } else ref = root;
    refs.set(key, ref);
    const replace = (node: SchemaObject, isRoot: boolean): unknown =>
      !isRoot && keyOf(node) === key ? { $ref: ref } : node;
    current = Object.fromEntries(
      Object.entries(current).map(([name, s]) => [name, mapSchema(s, replace) as SchemaObject]),
    );
    for (const [name, s] of Object.entries(definitions)) {
      definitions[name] = mapSchema(s, replace) as SchemaObject;
    }
  }
  return { schemas: current, definitions };
};

// Build-time-only strictness: it decides what compiles, never what the compiled code does.
// (`strictNumbers` is not one of them: it changes the code of `type: number`.)
const STRICTNESS = [
  'strict',
  'strictSchema',
  'strictTypes',
  'strictTuples',
  'strictRequired',
] as const;

/** The options as far as they shape the generated code. */
const codegenOptions = (options: Options): Options => {
  const rest: Options = { ...options };
  for (const flag of STRICTNESS) delete rest[flag];
  return { ...rest, strictNumbers: options.strictNumbers ?? options.strict ?? true };
};

const codegenKey = (options: Options): string =>
  JSON.stringify(Object.entries(codegenOptions(options)).sort(([a], [b]) => (a < b ? -1 : 1)));

/** Each group compiled as it is declared, for the strictness checks only; throws on a problem. */
const checkStrictness = (group: Group): void => {
  const ajv = new Ajv(group.options);
  if (group.formats === true) addFormats(ajv);
  for (const [name, schema] of Object.entries(group.schemas)) ajv.addSchema(schema, name);
  for (const name of Object.keys(group.schemas)) ajv.getSchema(name);
};

/**
 * Groups whose code would be the same, merged, after checking each as it is declared: the
 * strictness checks have then been made, and hoisted subschemas (which, e.g., lack the `type`
 * of the schema they came from) compile without them.
 */
const mergeGroups = (declared: Group[]): Group[] => {
  const merged = new Map<string, Group>();
  for (const group of declared) {
    checkStrictness(group);
    const key = codegenKey(group.options);
    const into = merged.get(key) ?? { options: codegenOptions(group.options), schemas: {} };
    merged.set(key, {
      options: into.options,
      formats: into.formats === true || group.formats === true,
      schemas: { ...into.schemas, ...group.schemas },
    });
  }
  return [...merged.values()];
};

// ajv's error push, `const errN = {instancePath, schemaPath, keyword, params, message};
// if(vErrors === null){vErrors = [errN];}else {vErrors.push(errN);}errors++;`, repeated at every
// keyword, is most of the code: two helpers build and push the same objects, fields in the same
// order. (Errors inside `if` are built as `{}`: ajv drops them.)
const PUSH =
  /const (err\d+) = (\{(?:instancePath.*?)?\});if\(vErrors === null\)\{vErrors = \[\1\];\}else \{vErrors\.push\(\1\);\}errors\+\+;/g;
const ERROR_FIELDS =
  /^\{instancePath(?::(.+?))?,schemaPath:("[^"\\]*"),keyword:("[^"\\]*"),params:(.*),message:(.*)\}$/;
const ERROR_HELPERS = [
  'const pushError = (vErrors, error) => {',
  '  if (vErrors === null) return [error];',
  '  vErrors.push(error);',
  '  return vErrors;',
  '};',
  'const addError = (vErrors, instancePath, schemaPath, keyword, params, message) =>',
  '  pushError(vErrors, { instancePath, schemaPath, keyword, params, message });',
  'const concatErrors = (vErrors, validate) =>',
  '  vErrors === null ? validate.errors : vErrors.concat(validate.errors);',
];
// After a failed call of a `$ref`'d function.
const CONCAT =
  /vErrors = vErrors === null \? (validate\d+)\.errors : vErrors\.concat\(\1\.errors\);/g;

const compactErrors = (code: string): string => {
  const compacted = code
    .replace(CONCAT, 'vErrors = concatErrors(vErrors, $1);')
    .replace(PUSH, (_m, _name: string, object: string) => {
      const fields = ERROR_FIELDS.exec(object);
      if (fields === null) return `vErrors = pushError(vErrors, ${object});errors++;`;
      const [, instancePath = 'instancePath', ...rest] = fields;
      return `vErrors = addError(vErrors, ${[instancePath, ...rest].join(', ')});errors++;`;
    });
  // A newer ajv writing errors differently must not silently bring the bytes back.
  if (/const err\d+ = /.test(compacted)) throw new Error('ajv error push not recognised');
  return compacted;
};

/** Index just past the JSON value (object or array) starting at `start`. */
const endOfJson = (text: string, start: number): number => {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  throw new Error('unterminated JSON in generated code');
};

/** ajv declares every compiled schema as a constant; bundlers keep the unread ones. */
const dropUnreadSchemas = (code: string): string => {
  let out = code;
  for (const [, name] of code.matchAll(/const (schema\d+) = [{[]/g)) {
    if ((out.match(new RegExp(`\\b${name}\\b`, 'g')) ?? []).length > 1) continue;
    const start = out.indexOf(`const ${name} = `);
    const end = endOfJson(out, start + `const ${name} = `.length);
    if (out[end] !== ';') throw new Error(`unexpected code after ${name}`);
    out = out.slice(0, start) + out.slice(end + 1);
  }
  return out;
};

/** The generated module's text: ESM, ajv's runtime helpers imported, not required. */
export const generateValidators = (): string => {
  const imports = new Map<string, string>();
  const blocks: string[] = [];
  const exported: string[] = [];
  for (const [index, group] of mergeGroups(groups()).entries()) {
    const ajv = new Ajv({
      ...group.options,
      strict: false,
      inlineRefs: false,
      code: { source: true, esm: true },
    });
    if (group.formats === true) addFormats(ajv);
    // Two members with the same schema (workos and standard-webhooks options) share a function.
    const unique: Record<string, SchemaObject> = {};
    const firstWith = new Map<string, string>();
    for (const [name, declared] of Object.entries(group.schemas)) {
      const schema = withoutAnnotations(declared);
      const key = JSON.stringify({ ...schema, $schema: undefined });
      const first = firstWith.get(key);
      if (first === undefined) {
        firstWith.set(key, name);
        unique[name] = schema;
      } else exported.push(`export const ${name} = group${index}.${first};`);
    }
    const { schemas, definitions } = hoistRepeated(unique);
    if (Object.keys(definitions).length > 0) ajv.addSchema({ $id: SHARED_ID, definitions });
    for (const [name, schema] of Object.entries(schemas)) ajv.addSchema(schema, name);
    const refs = Object.fromEntries(Object.keys(schemas).map((name) => [name, name]));
    const names: string[] = [];
    const code = dropUnreadSchemas(compactErrors(standaloneCode(ajv, refs)))
      .replace(/^"use strict";/, '')
      .replace(/export const (\w+) = (\w+);/g, (_m, name: string, fn: string) => {
        names.push(`${name}: ${fn}`);
        exported.push(`export const ${name} = group${index}.${name};`);
        return '';
      })
      .replace(/require\("([^"]+)"\)\.(\w+)/g, (_m, path: string, key: string) => {
        const spec = path.endsWith('.js') ? path : `${path}.js`;
        const use = `${spec}#${key}`;
        let id = imports.get(use);
        if (id === undefined) {
          id = `runtime${imports.size}`;
          imports.set(use, id);
        }
        return id;
      });
    // Each Ajv instance numbers its functions from validate10: one scope per group.
    blocks.push(`const group${index} = (() => {${code}\nreturn { ${names.join(', ')} };\n})();`);
  }
  return [
    '// Generated by `npm run build:validators` (scripts/build-validators.ts). Do not edit.',
    // ajv's runtime helpers are CommonJS with __esModule: Node's own ESM loader and bundlers
    // disagree on what a default import of them is, so `pick` reads both shapes.
    'const pick = (ns, key) => {',
    '  const m = ns.default;',
    "  if (key === 'default') return typeof m === 'function' ? m : m.default;",
    '  return ns[key] ?? m[key];',
    '};',
    ...[...imports].flatMap(([use, id]) => {
      const [spec, key] = use.split('#');
      return [
        `import * as ${id}ns from ${JSON.stringify(spec)};`,
        `const ${id} = pick(${id}ns, ${JSON.stringify(key)});`,
      ];
    }),
    ...ERROR_HELPERS,
    ...blocks,
    ...exported,
    '',
  ].join('\n');
};

/** Types of the generated module: one ajv ValidateFunction per schema. */
export const generateDeclarations = (): string =>
  [
    '// Generated by `npm run build:validators` (scripts/build-validators.ts). Do not edit.',
    "import type { ValidateFunction } from 'ajv';",
    ...groups().flatMap((group) =>
      Object.keys(group.schemas).map((name) => `export declare const ${name}: ValidateFunction;`),
    ),
    '',
  ].join('\n');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(VALIDATORS_FILE, generateValidators());
  writeFileSync(VALIDATORS_FILE.replace(/\.js$/, '.d.ts'), generateDeclarations());
  console.log(`wrote ${VALIDATORS_FILE}`);
}
