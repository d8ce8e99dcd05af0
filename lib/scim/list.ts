// The arithmetic and matching behind GET /Users, free of CIAM calls: paging numbers, the CIAM page
// that holds a SCIM window, the conditions a found user must meet, and the ListResponse itself.
import type { Filter } from 'scim2-parse-filter';
import { AdapterError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { matchesElement, normaliseAttrPath } from './filter.ts';
import type { ScimObject } from './patch.ts';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
/** CIAM's largest page, and the `count` a connection without `maxPageSize` allows. */
export const DEFAULT_PAGE_SIZE = 100;

export interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
}

export interface Paging {
  /** 1-based, as SCIM counts. */
  startIndex: number;
  /** How many users the answer may hold, already capped by the connection's page size. */
  count: number;
}

const pagingNumber = (name: string, text: string | undefined, fallback: number, min: number) => {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value)) {
    throw new AdapterError('SCIM_INVALID_VALUE', `${name} must be an integer`);
  }
  // RFC 7644 §3.4.2.4: values below the minimum are read as the minimum.
  return Math.max(value, min);
};

/** `startIndex` and `count` of a list request; a missing count is the largest page allowed. */
export const pagingOf = (query: ListQuery, maxPageSize: number | undefined): Paging => {
  const startIndex = pagingNumber('startIndex', query.startIndex, 1, 1);
  const maxPage = maxPageSize ?? DEFAULT_PAGE_SIZE;
  const count = Math.min(pagingNumber('count', query.count, maxPage, 0), maxPage);
  return { startIndex, count };
};

export const hasFilter = (query: ListQuery): query is ListQuery & { filter: string } =>
  query.filter !== undefined && query.filter.trim() !== '';

/**
 * CIAM pages by number, SCIM by offset: the CIAM page of `count` users that holds `startIndex`,
 * and how many of its users come before it. Reading one page and slicing keeps it to one call.
 */
export const ciamPageOf = ({ startIndex, count }: Paging) => {
  const pageSize = Math.max(count, 1);
  return {
    pageSize,
    pageNumber: Math.floor((startIndex - 1) / pageSize) + 1,
    skip: (startIndex - 1) % pageSize,
  };
};

/** The SCIM window of one CIAM page read with ciamPageOf. */
export const windowOfPage = <T>(paging: Paging, content: readonly T[]): T[] => {
  if (paging.count === 0) return [];
  const { skip } = ciamPageOf(paging);
  return content.slice(skip, skip + paging.count);
};

/** The SCIM window of a complete list of matches. */
export const windowOf = <T>({ startIndex, count }: Paging, all: readonly T[]): T[] =>
  all.slice(startIndex - 1, startIndex - 1 + count);

/** Values at a (lower-cased) attribute path of a SCIM user, sub-attributes of arrays flattened. */
const valuesAt = (user: ScimObject, path: string): unknown[] => {
  let current: unknown[] = [user];
  for (const part of path.split('.')) {
    current = current.flatMap((item) => {
      if (!isRecord(item)) return [];
      const key = Object.keys(item).find((k) => k.toLowerCase() === part);
      const value = key === undefined ? undefined : item[key];
      return Array.isArray(value) ? value : value === undefined ? [] : [value];
    });
  }
  return current;
};

const sameText = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b;

/**
 * Whether a SCIM user found by the CIAM lookup meets the whole filter: every equality (the lookup
 * answered only one of them), and every element condition such as `emails[type eq "work"]`.
 */
export const matchesFilter =
  (filter: Filter, conditions: ReadonlyArray<{ path: string; value: unknown }>) =>
  (user: ScimObject): boolean =>
    conditions.every(({ path, value }) =>
      valuesAt(user, normaliseAttrPath(path)).some((held) => sameText(held, value)),
    ) &&
    (filter.op !== 'and' ||
      filter.filters.every(
        (inner) =>
          inner.op !== '[]' ||
          valuesAt(user, normaliseAttrPath(inner.attrPath)).some((element) =>
            matchesElement(inner.valFilter, element),
          ),
      ));

export const listResponse = (resources: ScimObject[], total: number, startIndex: number) => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults: total,
  Resources: resources,
  startIndex,
  itemsPerPage: resources.length,
});
