// RFC 7644 §3.5.2 PATCH, applied to a SCIM User held as plain JSON. Our own rather than
// `scim-patch`: that library refuses Entra's "True"/"False" strings (thomaspoignant/scim-patch#872)
// and dotted keys in a path-less value (scim-for-keycloak#26 describes the same gap), and ships
// `@types/node` as a runtime dependency; the quirks would need a rewrite of each operation around
// it. Paths and value filters still go through scim2-parse-filter (lib/scim/filter.ts).
import type { Filter } from 'scim2-parse-filter';
import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { elementFromFilter, matchesElement, parseFilter } from './filter.ts';

export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type ScimObject = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';

export interface ParsedPath {
  /** The extension URN holding the attribute; undefined for the core schema. */
  container?: string;
  attribute: string;
  filter?: Filter;
  sub?: string;
}

/** Canonical spelling of the attributes we know, so `Emails[Type eq "work"].Value` lands on `emails`. */
const KNOWN = [
  'id',
  'externalId',
  'userName',
  'displayName',
  'nickName',
  'name',
  'formatted',
  'givenName',
  'familyName',
  'middleName',
  'honorificPrefix',
  'honorificSuffix',
  'title',
  'userType',
  'preferredLanguage',
  'locale',
  'timezone',
  'active',
  'emails',
  'phoneNumbers',
  'addresses',
  'value',
  'type',
  'primary',
  'display',
  'streetAddress',
  'locality',
  'region',
  'postalCode',
  'country',
  'employeeNumber',
  'costCenter',
  'organization',
  'division',
  'department',
  'manager',
  'profileUrl',
  'password',
  'groups',
  'roles',
  'meta',
  'schemas',
  '$ref',
];
const CANONICAL = new Map(KNOWN.map((name) => [name.toLowerCase(), name]));
const BOOLEAN_ATTRIBUTES = new Set(['active', 'primary']);
const MULTI_VALUED = new Set([
  'emails',
  'phoneNumbers',
  'addresses',
  'groups',
  'roles',
  'members',
  'entitlements',
  'ims',
  'photos',
  'x509Certificates',
  'manager',
]);

const canonical = (name: string): string => CANONICAL.get(name.toLowerCase()) ?? name;

const invalidPath = (detail: string) => new AdapterError('SCIM_INVALID_PATH', detail);
const invalidValue = (detail: string) => new AdapterError('SCIM_INVALID_VALUE', detail);

/** The key `object` already uses for `name`, matched case-insensitively, or the canonical one. */
const keyIn = (object: ScimObject, name: string): string => {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower) ?? canonical(name);
};

/** Entra sends `"True"` / `"False"` (without `aadOptscim062020`); booleans are parsed case-insensitively. */
const coerceBoolean = (name: string, value: unknown): unknown => {
  if (!BOOLEAN_ATTRIBUTES.has(canonical(name)) || typeof value !== 'string') return value;
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw invalidValue(`${canonical(name)} must be a boolean`);
};

/** Booleans fixed up anywhere inside a value (`{"active":"False"}`, `[{"primary":"true"}]`). */
const coerceDeep = (name: string, value: unknown): unknown => {
  if (Array.isArray(value)) return value.map((item) => coerceDeep(name, item));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, coerceDeep(key, inner)]),
    );
  }
  return coerceBoolean(name, value);
};

const ATTRIBUTE = /^([A-Za-z$][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/s;

/** `urn:…:enterprise:2.0:User:department`, `emails[type eq "work"].value`, `name.givenName`. */
export const parsePath = (path: string): ParsedPath => {
  let rest = path.trim();
  let container: string | undefined;
  if (rest.toLowerCase().startsWith('urn:')) {
    const bracket = rest.indexOf('[');
    const head = bracket === -1 ? rest : rest.slice(0, bracket);
    const colon = head.lastIndexOf(':');
    const urn = head.slice(0, colon);
    rest = rest.slice(colon + 1);
    if (urn.toLowerCase() !== CORE_USER_SCHEMA.toLowerCase()) {
      container =
        urn.toLowerCase() === ENTERPRISE_USER_SCHEMA.toLowerCase() ? ENTERPRISE_USER_SCHEMA : urn;
    }
  }
  const match = ATTRIBUTE.exec(rest);
  const attribute = match?.[1];
  if (match === null || attribute === undefined) throw invalidPath(`Unsupported path: ${path}`);
  let filter: Filter | undefined;
  if (match[2] !== undefined) {
    try {
      filter = parseFilter(match[2]);
    } catch {
      throw invalidPath(`The filter in path ${path} is not valid`);
    }
  }
  const name = canonical(attribute);
  if (filter !== undefined && CANONICAL.has(name.toLowerCase()) && !MULTI_VALUED.has(name)) {
    throw invalidPath(`${name} is not multi-valued: it takes no filter`);
  }
  return {
    ...(container === undefined ? {} : { container }),
    attribute: name,
    ...(filter === undefined ? {} : { filter }),
    ...(match[3] === undefined ? {} : { sub: canonical(match[3]) }),
  };
};

/** Adds or replaces a whole attribute: objects merge, multi-valued `add` appends (one per `type`). */
const setWhole = (target: ScimObject, name: string, value: unknown, op: Op): void => {
  const key = keyIn(target, name);
  const existing = target[key];
  if (value === null) {
    delete target[key];
    return;
  }
  if (isRecord(existing) && isRecord(value)) {
    const merged = { ...existing };
    for (const [inner, innerValue] of Object.entries(value))
      setWhole(merged, inner, innerValue, op);
    target[key] = merged;
    return;
  }
  if (op === 'add' && Array.isArray(existing) && Array.isArray(value)) {
    // Entra: a type appears once per multi-valued attribute, so a new `work` email replaces the old.
    const types = new Set(
      value.map((item) => (isRecord(item) ? String(item.type ?? '').toLowerCase() : '')),
    );
    const kept = existing.filter(
      (item) =>
        !(isRecord(item) && item.type !== undefined && types.has(String(item.type).toLowerCase())),
    );
    target[key] = [...kept, ...value];
    return;
  }
  target[key] = value;
};

const holderOf = (
  resource: ScimObject,
  path: ParsedPath,
  create: boolean,
): ScimObject | undefined => {
  if (path.container === undefined) return resource;
  const key = keyIn(resource, path.container);
  const existing = resource[key];
  if (isRecord(existing)) return existing;
  if (!create) return undefined;
  const created: ScimObject = {};
  resource[key] = created;
  return created;
};

const applyAtPath = (resource: ScimObject, path: ParsedPath, op: Op, value: unknown): void => {
  if (canonical(path.attribute) === 'id' && path.container === undefined) {
    throw new AdapterError('SCIM_MUTABILITY', 'id cannot be changed');
  }
  const holder = holderOf(resource, path, op !== 'remove');
  if (holder === undefined) return;
  const key = keyIn(holder, path.attribute);
  const existing = holder[key];

  if (path.filter === undefined) {
    if (path.sub === undefined) {
      if (op !== 'remove') {
        setWhole(holder, path.attribute, value, op);
        return;
      }
      if (Array.isArray(existing) && Array.isArray(value)) {
        // Entra (without aadOptscim062020) removes members as path "members" + [{ value }].
        const gone = new Set(value.map((item) => (isRecord(item) ? item.value : item)));
        holder[key] = existing.filter((item) => !(isRecord(item) && gone.has(item.value)));
      } else {
        delete holder[key];
      }
      return;
    }
    if (Array.isArray(existing))
      throw invalidPath(`${path.attribute} is multi-valued: use a filter`);
    if (op === 'remove') {
      if (isRecord(existing)) delete existing[keyIn(existing, path.sub)];
      return;
    }
    const object = isRecord(existing) ? existing : {};
    holder[key] = object;
    setWhole(object, path.sub, value, op);
    return;
  }

  if (existing !== undefined && !Array.isArray(existing)) {
    throw invalidPath(`${path.attribute} is not multi-valued`);
  }
  const elements = (existing ?? []) as unknown[];
  const filter = path.filter;
  const matched = elements.filter((element) => matchesElement(filter, element));
  if (op === 'remove') {
    if (path.sub === undefined) {
      holder[key] = elements.filter((element) => !matched.includes(element));
    } else {
      for (const element of matched)
        if (isRecord(element)) delete element[keyIn(element, path.sub)];
    }
    return;
  }
  if (matched.length === 0) {
    // Entra adds (and sometimes replaces) `emails[type eq "work"].value` where none exists yet.
    const created = elementFromFilter(filter);
    if (created === undefined) {
      throw new AdapterError('SCIM_NO_TARGET', 'No element matches the filter');
    }
    elements.push(created);
    matched.push(created);
    holder[key] = elements;
  }
  for (const element of matched) {
    if (!isRecord(element)) throw invalidValue(`${path.attribute} holds a non-object element`);
    if (path.sub !== undefined) setWhole(element, path.sub, value, op);
    else if (isRecord(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        setWhole(element, inner, innerValue, op);
      }
    } else throw invalidValue(`${path.attribute} elements take an object value`);
  }
};

const IGNORED_KEYS = new Set(['schemas', 'meta']);

/** One change to make: an operation with its path parsed and its value's booleans fixed up. */
export interface CompiledStep {
  op: Op;
  path: ParsedPath;
  value: unknown;
  /** Path-less `id` keys: allowed only when equal to the resource's id. */
  idCheck?: true;
}

/** A path-less add / replace: each key is a path, dotted and URN keys included (aadOptscim062020). */
const valueObjectSteps = (op: Op, value: unknown): CompiledStep[] => {
  if (!isRecord(value)) throw invalidValue('An operation without a path needs an object value');
  const steps: CompiledStep[] = [];
  for (const [key, inner] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (IGNORED_KEYS.has(lower)) continue;
    if (lower === 'id') {
      steps.push({ op, path: { attribute: 'id' }, value: inner, idCheck: true });
      continue;
    }
    const isUrnObject =
      lower.startsWith('urn:') &&
      isRecord(inner) &&
      !lower.startsWith(`${CORE_USER_SCHEMA.toLowerCase()}:`);
    if (isUrnObject) {
      const container =
        lower === ENTERPRISE_USER_SCHEMA.toLowerCase() ? ENTERPRISE_USER_SCHEMA : key;
      for (const [attribute, attributeValue] of Object.entries(inner)) {
        steps.push({
          op,
          path: { container, attribute: canonical(attribute) },
          value: coerceDeep(attribute, attributeValue),
        });
      }
      continue;
    }
    const path = parsePath(key);
    steps.push({ op, path, value: coerceDeep(path.sub ?? path.attribute, inner) });
  }
  return steps;
};

/**
 * Checks a PatchOp body and compiles its operations, all before any CIAM call: a bad op is
 * `invalidSyntax`, a bad path `invalidPath`, a bad value `invalidValue`.
 */
export const compilePatch = (body: unknown): CompiledStep[] => {
  const syntax = (detail: string) => new AdapterError('SCIM_INVALID_SYNTAX', detail);
  if (!isRecord(body)) throw syntax('The body must be a PatchOp object');
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw syntax('Operations must be a non-empty array');
  }
  return operations.flatMap((operation: unknown, index): CompiledStep[] => {
    if (!isRecord(operation) || typeof operation.op !== 'string') {
      throw syntax(`Operations[${index}] needs an op`);
    }
    // Entra capitalises op values (Add, Replace, Remove); Microsoft asks for case-insensitive ops.
    const op = operation.op.trim().toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw syntax(`Operations[${index}] has an unknown op`);
    }
    const rawPath = operation.path;
    if (rawPath !== undefined && rawPath !== null && typeof rawPath !== 'string') {
      throw new AdapterError('SCIM_INVALID_PATH', `Operations[${index}].path must be a string`);
    }
    if (typeof rawPath !== 'string' || rawPath.trim() === '') {
      if (op === 'remove') throw new AdapterError('SCIM_INVALID_PATH', 'remove needs a path');
      return valueObjectSteps(op, operation.value);
    }
    const path = parsePath(rawPath);
    if (op !== 'remove' && operation.value === undefined) {
      throw invalidValue(`Operations[${index}] needs a value`);
    }
    return [{ op, path, value: coerceDeep(path.sub ?? path.attribute, operation.value) }];
  });
};

/** Returns a patched copy; `resource` is left as it was. Throws SCIM errors, never plain ones. */
export const applyPatch = (resource: ScimObject, steps: readonly CompiledStep[]): ScimObject => {
  const result = structuredClone(resource);
  for (const step of steps) {
    if (step.idCheck === true) {
      if (step.value !== result.id)
        throw new AdapterError('SCIM_MUTABILITY', 'id cannot be changed');
      continue;
    }
    applyAtPath(result, step.path, step.op, step.value);
  }
  return result;
};
