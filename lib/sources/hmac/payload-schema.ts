// Why an interpreter here, when every other schema is compiled at package time by ajv standalone
// (scripts/build-validators.ts → lib/validators/generated.js): that was weighed, with a prototype
// that compiled the hmac payloadSchema of every config/*.json the same way, keyed by a hash of the
// schema, and measured against this engine in one run of the bench's code on the shared 2-core
// machine (41 interleaved cold starts each, config/local.json with its one hmac connection):
//
//                                         this engine   compiled at package time
//   init CPU above bare Node, adapter     39.0 ms       36.8 ms  (baseline 192.2 ms)
//   init CPU ratio vs baseline            0.203         0.191    (goal ≤ 0.25)
//   bundle bytes                          448172        419392   (baseline 1181937)
//   bundle ratio vs baseline              0.379         0.355    (goal ≤ 0.4)
//   one payload checked, in a warm loop   ~4 µs         ~0.1 µs  (a whole webhook ~500 µs)
//
// (An earlier run under heavier load: 41.4 vs 38.1 ms, ratios 0.190 vs 0.174.) So compiling saves
// 2–3 ms of init CPU and 29 kB (this engine and this file), and nothing measurable per webhook:
// the hmac rows of the warm bench moved within their noise. Both meet the goals. Not worth it,
// because the compiled validator is only right for the config it was compiled from:
// - The config is the operator's, chosen per stage (`configFile`) and edited between deploys; the
//   documented `npx serverless deploy` packages without running the generator. A validator looked
//   up by connection id would then check payloads against an old schema; looked up by the
//   schema's hash, the mismatch is caught, but at cold start, and it refuses the whole webhook
//   function (every connection's deliveries answered 500) until someone regenerates and deploys.
// - Tests and `npm start` load configs from anywhere (ADAPTER_CONFIG), so a run-time compiler
//   would stay for them: production and tests would no longer run the same code.
// - ajv accepts a different set of schemas (no 2019-09/2020-12 keywords under draft-07, other
//   formats) than the one operators' configs are checked against today.
// Here the schema that is checked is always the one deployed, at a cost the figures above bound.
import {
  dereference,
  format as FORMATS,
  type OutputUnit,
  type Schema,
  validate,
} from '@cfworker/json-schema';
import type { ValidationDetail } from '../shared/validation.ts';
import { isRecord } from '../shared/values.ts';

/**
 * The operator's own JSON Schema for an hmac connection's payloads (`options.payloadSchema`).
 *
 * It is checked by @cfworker/json-schema, which interprets the schema instead of generating code:
 * ajv's compiler (and fast-uri) in the bundle and compiling at cold start were most of the
 * function's init CPU. What differs from the ajv (draft-07, ajv-formats) it replaces:
 * - Keywords: ajv's strict mode refused unknown keywords (typos such as `requried` would
 *   otherwise be ignored and silently accept anything); cfworker ignores them, so the schema is
 *   walked here against KEYWORDS. Draft 2019-09/2020-12 applicators cfworker implements
 *   (prefixItems, dependentRequired/Schemas, unevaluated*, min/maxContains) are now accepted;
 *   ajv extensions cfworker lacks (nullable, formatMinimum…, $async) are refused.
 * - Formats: cfworker's set is ajv-formats' "full" one without iso-time, iso-date-time and the
 *   OpenAPI names (int32, int64, float, double, byte, binary, password); those are refused, since
 *   cfworker would ignore them. email, date-time, date, time, uri, uuid, hostname, ipv4/6 … match.
 * - Non-finite numbers (JSON `1e400` parses to Infinity) count as numbers and integers in
 *   cfworker; ajv refused them. A payload carrying one is refused wherever it is (it could not be
 *   sent on to CIAM as JSON anyway).
 * - `$ref` must resolve inside the schema (checked here, at cold start; no remote schemas).
 * - Messages are built here from the keyword and the schema, in ajv's wording: several of
 *   cfworker's quote the payload (numbers, property names), and personal data must not reach a
 *   400 body or the logs.
 */

/** A check of one payload: no details means it is valid. */
export type PayloadCheck = (payload: unknown) => ValidationDetail[];

type Kind =
  | 'annotation'
  | 'string'
  | 'boolean'
  | 'array'
  | 'schema'
  | 'schemaArray'
  | 'schemaMap'
  | 'patternMap'
  | 'items'
  | 'type'
  | 'number'
  | 'positiveNumber'
  | 'count'
  | 'pattern'
  | 'format'
  | 'names'
  | 'namesMap'
  | 'dependencies';

/**
 * The keywords cfworker acts on, plus annotations it may safely ignore (draft-07 and 2020-12).
 * Anything else is refused: an ignored keyword would accept payloads the operator meant to refuse.
 */
const KEYWORDS: Record<string, Kind> = {
  $schema: 'string',
  $id: 'string',
  $ref: 'string',
  $anchor: 'string',
  $comment: 'annotation',
  $defs: 'schemaMap',
  definitions: 'schemaMap',
  title: 'annotation',
  description: 'annotation',
  default: 'annotation',
  examples: 'annotation',
  deprecated: 'annotation',
  readOnly: 'annotation',
  writeOnly: 'annotation',
  contentEncoding: 'annotation',
  contentMediaType: 'annotation',
  type: 'type',
  enum: 'array',
  const: 'annotation',
  multipleOf: 'positiveNumber',
  maximum: 'number',
  exclusiveMaximum: 'number',
  minimum: 'number',
  exclusiveMinimum: 'number',
  maxLength: 'count',
  minLength: 'count',
  pattern: 'pattern',
  format: 'format',
  maxItems: 'count',
  minItems: 'count',
  uniqueItems: 'boolean',
  maxContains: 'count',
  minContains: 'count',
  maxProperties: 'count',
  minProperties: 'count',
  required: 'names',
  dependentRequired: 'namesMap',
  not: 'schema',
  if: 'schema',
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
  then: 'schema',
  else: 'schema',
  allOf: 'schemaArray',
  anyOf: 'schemaArray',
  oneOf: 'schemaArray',
  properties: 'schemaMap',
  patternProperties: 'patternMap',
  additionalProperties: 'schema',
  unevaluatedProperties: 'schema',
  propertyNames: 'schema',
  dependentSchemas: 'schemaMap',
  dependencies: 'dependencies',
  prefixItems: 'schemaArray',
  items: 'items',
  additionalItems: 'schema',
  unevaluatedItems: 'schema',
  contains: 'schema',
};

const TYPES = new Set(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);

const escapeSegment = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');

const isRegExp = (source: unknown): boolean => {
  if (typeof source !== 'string') return false;
  try {
    // cfworker (like ajv) compiles patterns with the `u` flag.
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
};

const isNames = (value: unknown): boolean =>
  Array.isArray(value) && value.every((name) => typeof name === 'string');

/** Problems with the schema itself, each at a JSON Pointer into it (from `path`). */
export const schemaProblems = (schema: unknown, path: string): ValidationDetail[] => {
  if (typeof schema === 'boolean') return [];
  if (!isRecord(schema)) return [{ path, message: 'must be a JSON Schema (object or boolean)' }];
  const problems: ValidationDetail[] = [];
  const bad = (at: string, message: string) => problems.push({ path: at, message });
  for (const [keyword, value] of Object.entries(schema)) {
    const at = `${path}/${escapeSegment(keyword)}`;
    const kind = Object.hasOwn(KEYWORDS, keyword) ? KEYWORDS[keyword] : undefined;
    const each = (entries: [string, unknown][]) => {
      for (const [key, sub] of entries)
        problems.push(...schemaProblems(sub, `${at}/${escapeSegment(key)}`));
    };
    switch (kind) {
      case undefined:
        bad(at, 'is not a known JSON Schema keyword (misspelt, or not supported here)');
        break;
      case 'annotation':
        break;
      case 'string':
        if (typeof value !== 'string') bad(at, 'must be string');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') bad(at, 'must be boolean');
        break;
      case 'array':
        if (!Array.isArray(value)) bad(at, 'must be array');
        break;
      case 'schema':
        problems.push(...schemaProblems(value, at));
        break;
      case 'schemaArray':
        if (!Array.isArray(value) || value.length === 0) bad(at, 'must be a non-empty array');
        else each(value.map((sub, i) => [String(i), sub]));
        break;
      case 'items':
        if (Array.isArray(value)) each(value.map((sub, i) => [String(i), sub]));
        else problems.push(...schemaProblems(value, at));
        break;
      case 'schemaMap':
        if (!isRecord(value)) bad(at, 'must be object');
        else each(Object.entries(value));
        break;
      case 'patternMap':
        if (!isRecord(value)) bad(at, 'must be object');
        else {
          for (const pattern of Object.keys(value)) {
            if (!isRegExp(pattern))
              bad(`${at}/${escapeSegment(pattern)}`, 'is not a valid pattern');
          }
          each(Object.entries(value));
        }
        break;
      case 'type': {
        const types = Array.isArray(value) ? value : [value];
        if (types.length === 0 || !types.every((type) => TYPES.has(type as string))) {
          bad(at, `must be one of ${[...TYPES].join(', ')}, or an array of them`);
        }
        break;
      }
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) bad(at, 'must be number');
        break;
      case 'positiveNumber':
        if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
          bad(at, 'must be a number > 0');
        }
        break;
      case 'count':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          bad(at, 'must be a non-negative integer');
        }
        break;
      case 'pattern':
        if (!isRegExp(value)) bad(at, 'is not a valid pattern');
        break;
      case 'format':
        if (typeof value !== 'string' || !Object.hasOwn(FORMATS, value)) {
          bad(at, `must be one of the supported formats: ${Object.keys(FORMATS).join(', ')}`);
        }
        break;
      case 'names':
        if (!isNames(value)) bad(at, 'must be an array of strings');
        break;
      case 'namesMap':
        if (!isRecord(value) || !Object.values(value).every(isNames)) {
          bad(at, 'must be an object of string arrays');
        }
        break;
      case 'dependencies':
        if (!isRecord(value)) bad(at, 'must be object');
        else {
          for (const [key, dependency] of Object.entries(value)) {
            if (Array.isArray(dependency)) {
              if (!isNames(dependency))
                bad(`${at}/${escapeSegment(key)}`, 'must be an array of strings');
            } else {
              problems.push(...schemaProblems(dependency, `${at}/${escapeSegment(key)}`));
            }
          }
        }
        break;
    }
  }
  return problems;
};

type Lookup = ReturnType<typeof dereference>;

/** Every subschema object, with where it sits (for `$ref` checks after dereferencing). */
function* subschemas(schema: unknown, path: string): Generator<[Schema, string]> {
  if (!isRecord(schema)) return;
  yield [schema as Schema, path];
  for (const [keyword, value] of Object.entries(schema)) {
    const kind = KEYWORDS[keyword];
    const at = `${path}/${escapeSegment(keyword)}`;
    if (kind === 'schema') yield* subschemas(value, at);
    else if (kind === 'schemaArray' || (kind === 'items' && Array.isArray(value))) {
      for (const [i, sub] of (value as unknown[]).entries()) yield* subschemas(sub, `${at}/${i}`);
    } else if (kind === 'items') yield* subschemas(value, at);
    else if (kind === 'schemaMap' || kind === 'patternMap' || kind === 'dependencies') {
      for (const [key, sub] of Object.entries(value as object)) {
        yield* subschemas(sub, `${at}/${escapeSegment(key)}`);
      }
    }
  }
}

const refOf = (schema: Schema): string | undefined =>
  schema.__absolute_ref__ ?? (typeof schema.$ref === 'string' ? schema.$ref : undefined);

/** cfworker's locations are URI fragments (`#/a/b%20c`); details use JSON Pointers (`/a/b c`). */
const segmentsOf = (location: string): string[] =>
  location === '#' ? [] : location.slice(2).split('/').map(decodeURIComponent);

const pointerOf = (location: string): string =>
  segmentsOf(location)
    .map((segment) => `/${segment}`)
    .join('');

const unescapeSegment = (segment: string): string =>
  segment.replace(/~1/g, '/').replace(/~0/g, '~');

/** The schema value at a keyword location, following `$ref` hops as cfworker did. */
const valueAt = (root: Schema, lookup: Lookup, location: string): unknown => {
  let node: unknown = root;
  for (const segment of segmentsOf(location).map(unescapeSegment)) {
    if (!isRecord(node)) return undefined;
    const ref = segment === '$ref' ? refOf(node as Schema) : undefined;
    node = ref === undefined ? node[segment] : lookup[ref];
  }
  return node;
};

/** A leaf that only says "a subschema failed": its inner units say what and where. */
const WRAPPERS = new Set([
  '$ref',
  'allOf',
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'dependentSchemas',
  'items',
  'prefixItems',
  'additionalItems',
  'unevaluatedItems',
]);

/**
 * What `false` means as the subschema of these keywords. cfworker reports it as the keyword's
 * unit followed by one "false" unit at the property or item, whose name must not be echoed.
 */
const FALSE_SCHEMA: Record<string, string> = {
  additionalProperties: 'must NOT have additional properties',
  unevaluatedProperties: 'must NOT have unevaluated properties',
  additionalItems: 'must NOT have additional items',
  unevaluatedItems: 'must NOT have unevaluated items',
};

/**
 * One cfworker output unit as a detail, or nothing for wrappers. The message uses only the
 * keyword, the schema and cfworker's fixed texts that carry schema names (required, dependencies):
 * never the payload's values.
 */
const detailOf = (unit: OutputUnit, root: Schema, lookup: Lookup): ValidationDetail | undefined => {
  const path = pointerOf(unit.instanceLocation);
  const value = valueAt(root, lookup, unit.keywordLocation);
  const limit = String(value);
  switch (unit.keyword) {
    case 'false':
      return { path, message: 'boolean schema is false' };
    case 'type':
      return { path, message: `must be ${Array.isArray(value) ? value.join(',') : limit}` };
    case 'const':
      return { path, message: 'must be equal to constant' };
    case 'enum':
      return { path, message: 'must be equal to one of the allowed values' };
    case 'not':
      return { path, message: 'must NOT be valid' };
    case 'anyOf':
      return { path, message: 'must match a schema in anyOf' };
    case 'oneOf':
      return { path, message: 'must match exactly one schema in oneOf' };
    case 'if':
      return {
        path,
        message: `must match "${unit.error.includes('"else"') ? 'else' : 'then'}" schema`,
      };
    case 'required': {
      // The property name comes from the schema's `required`, not from the payload.
      const missing = /required property "(.*)"\.$/s.exec(unit.error)?.[1];
      return missing === undefined
        ? { path, message: 'must have required properties' }
        : {
            path: `${path}/${escapeSegment(missing)}`,
            message: `must have required property '${missing}'`,
          };
    }
    case 'dependentRequired':
    case 'dependencies': {
      // Both names come from the schema; a dependent *schema* failing is reported by its units.
      const names = /^Instance has "(.*)" but does not have "(.*)"\.$/s.exec(unit.error);
      if (names === null) return undefined;
      return {
        path,
        message: `must have property ${names[2]} when property ${names[1]} is present`,
      };
    }
    case 'propertyNames':
      return { path, message: 'property name must be valid' };
    case 'minProperties':
      return { path, message: `must NOT have fewer than ${limit} properties` };
    case 'maxProperties':
      return { path, message: `must NOT have more than ${limit} properties` };
    case 'minItems':
      return { path, message: `must NOT have fewer than ${limit} items` };
    case 'maxItems':
      return { path, message: `must NOT have more than ${limit} items` };
    case 'uniqueItems':
      return { path, message: 'must NOT have duplicate items' };
    case 'contains':
      return { path, message: 'must contain at least 1 valid item(s)' };
    case 'minContains':
      return { path, message: `must contain at least ${limit} valid item(s)` };
    case 'maxContains':
      return { path, message: `must contain at most ${limit} valid item(s)` };
    case 'minimum':
      return { path, message: `must be >= ${limit}` };
    case 'maximum':
      return { path, message: `must be <= ${limit}` };
    case 'exclusiveMinimum':
      return { path, message: `must be > ${limit}` };
    case 'exclusiveMaximum':
      return { path, message: `must be < ${limit}` };
    case 'multipleOf':
      return { path, message: `must be multiple of ${limit}` };
    case 'minLength':
      return { path, message: `must NOT have fewer than ${limit} characters` };
    case 'maxLength':
      return { path, message: `must NOT have more than ${limit} characters` };
    case 'pattern':
      return { path, message: `must match pattern "${limit}"` };
    case 'format':
      return { path, message: `must match format "${limit}"` };
    default:
      return WRAPPERS.has(unit.keyword) ? undefined : { path, message: 'is invalid' };
  }
};

/**
 * Paths of numbers JSON cannot carry (`1e400` parses to Infinity); see the module comment. A loop,
 * not recursion: a body may nest arrays tens of thousands deep.
 */
const nonFinite = (payload: unknown): ValidationDetail[] => {
  const found: ValidationDetail[] = [];
  const pending: [unknown, string][] = [[payload, '']];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path] = next;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) found.push({ path, message: 'must be a finite number' });
    } else if (typeof value === 'object' && value !== null) {
      // Reversed onto the stack, so paths come out in document order.
      const children = Array.isArray(value)
        ? value.map((item, i): [unknown, string] => [item, `${path}/${i}`])
        : Object.entries(value).map(([key, item]): [unknown, string] => [
            item,
            `${path}/${escapeSegment(key)}`,
          ]);
      pending.push(...children.reverse());
    }
  }
  return found;
};

/**
 * Checks the operator's schema and returns the payload check, or the schema's problems (JSON
 * Pointers under `path`). The schema is copied: cfworker annotates the schema objects it is given.
 */
export const buildPayloadCheck = (
  schema: Record<string, unknown>,
  path: string,
): { check: PayloadCheck } | { problems: ValidationDetail[] } => {
  const problems = schemaProblems(schema, path);
  if (problems.length > 0) return { problems };
  const root = structuredClone(schema) as Schema;
  let lookup: Lookup;
  try {
    lookup = dereference(root);
  } catch (error) {
    return {
      problems: [{ path, message: error instanceof Error ? error.message : String(error) }],
    };
  }
  for (const [sub, at] of subschemas(root, path)) {
    const ref = refOf(sub);
    if (ref !== undefined && lookup[ref] === undefined) {
      problems.push({ path: `${at}/$ref`, message: 'does not resolve within the schema' });
    }
  }
  if (problems.length > 0) return { problems };

  const check: PayloadCheck = (payload) => {
    const found = nonFinite(payload);
    let units: OutputUnit[];
    try {
      // Draft 2020-12 rules in cfworker: `$ref` siblings apply, as they did in ajv 8.
      units = validate(payload, root, '2020-12', lookup, false).errors;
    } catch {
      // cfworker recurses (a recursive `$ref` over a deeply nested body overflows the stack) and
      // cannot build a location for a key with a lone surrogate ("\ud800"): refuse, not 500.
      return [{ path: '', message: 'could not be checked (nested too deeply, or malformed text)' }];
    }
    const seen = new Set<string>();
    const details: ValidationDetail[] = [];
    const add = (detail: ValidationDetail | undefined) => {
      if (detail === undefined) return;
      // Several units can say the same thing (one per additional property): report it once.
      const key = `${detail.path}\n${detail.message}`;
      if (seen.has(key)) return;
      seen.add(key);
      details.push(detail);
    };
    for (const detail of found) add(detail);
    for (let i = 0; i < units.length; i += 1) {
      const unit = units[i] as OutputUnit;
      const falseMeans = Object.hasOwn(FALSE_SCHEMA, unit.keyword)
        ? FALSE_SCHEMA[unit.keyword]
        : undefined;
      if (
        falseMeans !== undefined &&
        units[i + 1]?.keyword === 'false' &&
        valueAt(root, lookup, unit.keywordLocation) === false
      ) {
        add({ path: pointerOf(unit.instanceLocation), message: falseMeans });
        i += 1;
      } else {
        add(detailOf(unit, root, lookup));
      }
    }
    return details;
  };
  return { check };
};
