// SCIM filter expressions (RFC 7644 §3.4.2.2), parsed by `scim2-parse-filter` (small, no
// dependencies, the parser `scim-patch` itself uses). What it returns is interpreted here: list
// queries become CIAM lookups, and PATCH value filters (`emails[type eq "work"]`) select elements.
import { type Filter, parse } from 'scim2-parse-filter';
import { AdapterError } from '../errors.ts';

export const parseFilter = (text: string): Filter => {
  try {
    return parse(text);
  } catch {
    throw new AdapterError('SCIM_INVALID_FILTER', 'The filter is not a valid SCIM filter');
  }
};

/** Attribute names are case-insensitive (RFC 7643 §2.1); `urn:…:User:` prefixes of the core schema are dropped. */
const CORE_PREFIX = 'urn:ietf:params:scim:schemas:core:2.0:user:';
export const normaliseAttrPath = (path: string): string => {
  const lower = path.toLowerCase();
  return lower.startsWith(CORE_PREFIX) ? lower.slice(CORE_PREFIX.length) : lower;
};

/** What a list filter can be answered with: one equality the CIAM lookups support. */
export type UserQuery =
  | { by: 'id'; value: string }
  | { by: 'userName'; value: string }
  | { by: 'email'; value: string }
  | { by: 'externalId'; value: string };

const QUERY_ATTRIBUTES: Record<string, UserQuery['by']> = {
  id: 'id',
  username: 'userName',
  externalid: 'externalId',
  'emails.value': 'email',
  emails: 'email',
};

/**
 * The equality conditions of a filter made only of `eq` joined by `and` (all Entra sends) and
 * value filters on `emails` (`emails[type eq "work"].value eq "…"` parses as an `and` of the two).
 */
const equalities = (filter: Filter, out: Array<{ path: string; value: unknown }>): boolean => {
  switch (filter.op) {
    case 'eq':
      out.push({ path: normaliseAttrPath(filter.attrPath), value: filter.compValue });
      return true;
    case 'and':
      return filter.filters.every((inner) => equalities(inner, out));
    case '[]':
      // A condition on the element (e.g. its type) narrows nothing CIAM can look up: one email per user.
      return normaliseAttrPath(filter.attrPath) === 'emails';
    default:
      return false;
  }
};

/**
 * The CIAM lookup that answers `filter`, picking the first supported equality (all of them are
 * then checked against the user found). Anything else is `invalidFilter`, never a full scan.
 */
export const toUserQuery = (
  filter: Filter,
): { query: UserQuery; conditions: Array<{ path: string; value: unknown }> } => {
  const conditions: Array<{ path: string; value: unknown }> = [];
  if (!equalities(filter, conditions)) {
    throw new AdapterError(
      'SCIM_INVALID_FILTER',
      'Only eq on id, userName, externalId or emails.value, joined by and, is supported',
    );
  }
  for (const condition of conditions) {
    const by = QUERY_ATTRIBUTES[condition.path];
    if (by === undefined) continue;
    if (typeof condition.value !== 'string' || condition.value === '') {
      throw new AdapterError(
        'SCIM_INVALID_FILTER',
        `${condition.path} must be compared with a string`,
      );
    }
    return { query: { by, value: condition.value }, conditions };
  }
  throw new AdapterError(
    'SCIM_INVALID_FILTER',
    'The filter needs eq on id, userName, externalId or emails.value',
  );
};

const lowerKeys = (element: unknown): Record<string, unknown> => {
  if (typeof element !== 'object' || element === null) return {};
  return Object.fromEntries(
    Object.entries(element as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]),
  );
};

const sameValue = (actual: unknown, expected: unknown): boolean => {
  if (typeof actual === 'string' && typeof expected === 'string') {
    // `type` and most string values are caseExact false (RFC 7643 §4.1.2).
    return actual.toLowerCase() === expected.toLowerCase();
  }
  if (typeof expected === 'boolean' && typeof actual === 'string') {
    return actual.toLowerCase() === String(expected);
  }
  return actual === expected;
};

/** Whether an element of a multi-valued attribute passes a value filter (`type eq "work"`). */
export const matchesElement = (filter: Filter, element: unknown): boolean => {
  const fields = lowerKeys(element);
  switch (filter.op) {
    case 'eq':
      return sameValue(fields[filter.attrPath.toLowerCase()], filter.compValue);
    case 'ne':
      return !sameValue(fields[filter.attrPath.toLowerCase()], filter.compValue);
    case 'pr': {
      const value = fields[filter.attrPath.toLowerCase()];
      return value !== undefined && value !== null && value !== '';
    }
    case 'and':
      return filter.filters.every((inner) => matchesElement(inner, element));
    case 'or':
      return filter.filters.some((inner) => matchesElement(inner, element));
    case 'not':
      return !matchesElement(filter.filter, element);
    default:
      throw new AdapterError(
        'SCIM_INVALID_FILTER',
        `Operator ${filter.op} is not supported in a value filter`,
      );
  }
};

/** The element an `add` creates when no element passes its filter: `type eq "work"` → `{type:"work"}`. */
export const elementFromFilter = (filter: Filter): Record<string, unknown> | undefined => {
  if (filter.op === 'eq') return { [filter.attrPath]: filter.compValue };
  if (filter.op === 'and') {
    const parts = filter.filters.map(elementFromFilter);
    if (parts.some((part) => part === undefined)) return undefined;
    return Object.assign({}, ...parts);
  }
  return undefined;
};
