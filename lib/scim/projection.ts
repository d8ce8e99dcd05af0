// RFC 7644 §3.4.2.5 (and §3.9): the `attributes` and `excludedAttributes` query parameters, which
// choose the attributes of each User an answer carries. Read before any CIAM call, applied to the
// rendered user only after a list's filter has been checked against all of it.
import { AdapterError, isAdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, parsePath, type ScimObject } from './patch.ts';

/** Attribute names, lower-cased, to what of each is meant: all of it, or some of its parts. */
type Selection = Map<string, Selection | true>;

export interface ProjectionQuery {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

/** Shapes one rendered User for the answer. */
export type Projection = (resource: ScimObject) => ScimObject;

/** `returned: "always"`: in every answer, whatever either parameter says. */
const ALWAYS = ['schemas', 'id'] as const;

const invalid = (detail: string) => new AdapterError('SCIM_INVALID_VALUE', detail);

const select = (selection: Selection, keys: readonly string[]): void => {
  let node = selection;
  for (const [index, key] of keys.entries()) {
    const held = node.get(key);
    // The whole attribute is already asked for: one of its parts adds nothing.
    if (held === true) return;
    if (index === keys.length - 1) {
      node.set(key, true);
      return;
    }
    const child: Selection = held ?? new Map();
    node.set(key, child);
    node = child;
  }
};

/**
 * The keys one listed name stands for: `userName`, `name.givenName`, `emails.value`, the same with
 * the core schema's URN before them, an extension's attribute by its URN, or a whole extension.
 * Undefined for the core schema's URN alone, which stands for every core attribute.
 */
const keysOf = (parameter: string, name: string): string[] | undefined => {
  const lower = name.toLowerCase();
  if (lower === CORE_USER_SCHEMA.toLowerCase()) return undefined;
  if (lower === ENTERPRISE_USER_SCHEMA.toLowerCase()) return [lower];
  try {
    const path = parsePath(name);
    if (path.filter !== undefined) throw invalid(`${parameter} take attribute names, not filters`);
    return [
      ...(path.container === undefined ? [] : [path.container.toLowerCase()]),
      path.attribute.toLowerCase(),
      ...(path.sub === undefined ? [] : [path.sub.toLowerCase()]),
    ];
  } catch (error) {
    if (isAdapterError(error) && error.code === 'SCIM_INVALID_PATH') {
      throw invalid(`${parameter}: "${name}" is not an attribute name`);
    }
    throw error;
  }
};

interface Parsed {
  selection: Selection;
  /** The core schema's URN was listed: every attribute that is not an extension's. */
  core: boolean;
}

const parseList = (parameter: string, text: string): Parsed => {
  const parsed: Parsed = { selection: new Map(), core: false };
  for (const item of text.split(',')) {
    const name = item.trim();
    if (name === '') continue;
    const keys = keysOf(parameter, name);
    if (keys === undefined) parsed.core = true;
    else select(parsed.selection, keys);
  }
  return parsed;
};

/** The parts of `value` a selection keeps; undefined when none is left. */
const pick = (value: unknown, selection: Selection | true): unknown => {
  if (selection === true) return value;
  if (Array.isArray(value)) {
    const kept = value.map((item) => pick(item, selection)).filter((item) => item !== undefined);
    return kept.length === 0 ? undefined : kept;
  }
  if (!isRecord(value)) return undefined;
  const kept: ScimObject = {};
  for (const [key, inner] of Object.entries(value)) {
    const wanted = selection.get(key.toLowerCase());
    if (wanted === undefined) continue;
    const part = pick(inner, wanted);
    if (part !== undefined) kept[key] = part;
  }
  return Object.keys(kept).length === 0 ? undefined : kept;
};

/** `value` without the parts a selection names. */
const drop = (value: unknown, selection: Selection): unknown => {
  if (Array.isArray(value)) return value.map((item) => drop(item, selection));
  if (!isRecord(value)) return value;
  const kept: ScimObject = {};
  for (const [key, inner] of Object.entries(value)) {
    const unwanted = selection.get(key.toLowerCase());
    if (unwanted === true) continue;
    kept[key] = unwanted === undefined ? inner : drop(inner, unwanted);
  }
  return kept;
};

const always = (resource: ScimObject): ScimObject => {
  const kept: ScimObject = {};
  for (const key of ALWAYS) if (resource[key] !== undefined) kept[key] = resource[key];
  return kept;
};

const isExtension = (key: string) => key.toLowerCase().startsWith('urn:');

const given = (text: string | undefined): text is string =>
  text !== undefined && text.trim() !== '';

/**
 * The projection a request asks for; the identity when it asks for none. Both parameters at once
 * are refused (RFC 7644 §3.9 makes them mutually exclusive), as is a name that is not an
 * attribute path: `invalidValue`, before anything else is done.
 */
export const projectionOf = (query: ProjectionQuery): Projection => {
  const { attributes, excludedAttributes } = query;
  if (given(attributes) && given(excludedAttributes)) {
    throw invalid('attributes and excludedAttributes cannot be used together');
  }
  if (given(attributes)) {
    const { selection, core } = parseList('attributes', attributes);
    return (resource) => {
      const kept = (pick(resource, selection) ?? {}) as ScimObject;
      if (!core) return { ...always(resource), ...kept };
      // Every core attribute whole; of the rest, only what was asked for.
      const entries = Object.entries(resource).filter(([key]) => !isExtension(key));
      const extensions = Object.entries(kept).filter(([key]) => isExtension(key));
      return { ...always(resource), ...Object.fromEntries([...entries, ...extensions]) };
    };
  }
  if (given(excludedAttributes)) {
    const { selection } = parseList('excludedAttributes', excludedAttributes);
    for (const key of ALWAYS) selection.delete(key);
    return (resource) => drop(resource, selection) as ScimObject;
  }
  return (resource) => resource;
};
