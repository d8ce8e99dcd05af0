import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFilter, toUserQuery } from '../../lib/scim/filter.ts';
import {
  ciamPageOf,
  DEFAULT_PAGE_SIZE,
  hasFilter,
  LIST_RESPONSE_SCHEMA,
  listResponse,
  matchesFilter,
  pagingOf,
  windowOf,
  windowOfPage,
} from '../../lib/scim/list.ts';

describe('scim/list pagingOf', () => {
  it('defaults to the first index and the largest page the connection allows', () => {
    expect(pagingOf({}, undefined)).toEqual({ startIndex: 1, count: DEFAULT_PAGE_SIZE });
    expect(pagingOf({ startIndex: '', count: '' }, 25)).toEqual({ startIndex: 1, count: 25 });
  });

  it('reads values below the minimum as the minimum and caps count at the page size', () => {
    expect(pagingOf({ startIndex: '0', count: '-3' }, 50)).toEqual({ startIndex: 1, count: 0 });
    expect(pagingOf({ startIndex: '7', count: '500' }, 50)).toEqual({ startIndex: 7, count: 50 });
  });

  it.each([
    ['startIndex', { startIndex: 'x' }],
    ['startIndex', { startIndex: '1.5', count: 'y' }],
    ['count', { count: '2.5' }],
  ])('refuses a %s that is not an integer with SCIM_INVALID_VALUE', (name, query) => {
    expect(() => pagingOf(query, undefined)).toThrow(
      expect.objectContaining({
        code: 'SCIM_INVALID_VALUE',
        message: `${name} must be an integer`,
      }),
    );
  });
});

describe('scim/list paging over CIAM pages', () => {
  it('reads the CIAM page of `count` users that holds startIndex', () => {
    expect(ciamPageOf({ startIndex: 1, count: 2 })).toEqual({
      pageSize: 2,
      pageNumber: 1,
      skip: 0,
    });
    expect(ciamPageOf({ startIndex: 4, count: 3 })).toEqual({
      pageSize: 3,
      pageNumber: 2,
      skip: 0,
    });
    expect(ciamPageOf({ startIndex: 5, count: 3 })).toEqual({
      pageSize: 3,
      pageNumber: 2,
      skip: 1,
    });
    // CIAM refuses a page size of 0.
    expect(ciamPageOf({ startIndex: 3, count: 0 }).pageSize).toBe(1);
  });

  it('answers a prefix of the window from one page: whole when aligned, never empty when users remain', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 12 }),
        (total, startIndex, count) => {
          const everyone = Array.from({ length: total }, (_, i) => i + 1);
          const { pageSize, pageNumber } = ciamPageOf({ startIndex, count });
          const page = everyone.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
          const expected = everyone.slice(startIndex - 1, startIndex - 1 + count);
          const answered = windowOfPage({ startIndex, count }, page);
          // A window across two CIAM pages is cut at the page's end; the next startIndex (advanced
          // by itemsPerPage) picks up where it stopped, so nobody is skipped.
          expect(answered).toEqual(expected.slice(0, answered.length));
          if (expected.length > 0) expect(answered.length).toBeGreaterThan(0);
          if (count > 0 && (startIndex - 1) % count === 0) expect(answered).toEqual(expected);
          expect(windowOf({ startIndex, count }, everyone)).toEqual(expected);
        },
      ),
    );
  });

  it('cuts an unaligned window at the end of the CIAM page it starts in', () => {
    const everyone = ['u1', 'u2', 'u3', 'u4'];
    const paging = { startIndex: 2, count: 2 };
    const { pageSize, pageNumber } = ciamPageOf(paging);
    const page = everyone.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
    expect(windowOfPage(paging, page)).toEqual(['u2']);
  });
});

describe('scim/list matchesFilter', () => {
  const user = {
    id: 'u-1',
    userName: 'Alice',
    externalId: 'ext-alice',
    emails: [
      { value: 'alice@example.com', type: 'work' },
      { value: 'a@home.example', type: 'home' },
    ],
  };
  const matches = (text: string) => {
    const filter = parseFilter(text);
    return matchesFilter(filter, toUserQuery(filter).conditions)(user);
  };

  it('holds when every equality holds, strings compared case-insensitively', () => {
    expect(matches('userName eq "alice"')).toBe(true);
    expect(matches('userName eq "alice" and externalId eq "ext-alice"')).toBe(true);
    expect(matches('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ALICE"')).toBe(true);
    expect(matches('userName eq "alice" and externalId eq "ext-bob"')).toBe(false);
  });

  it('checks an email among all of them, and an element condition on the same list', () => {
    expect(matches('emails.value eq "a@home.example"')).toBe(true);
    expect(matches('emails[type eq "home"].value eq "a@home.example"')).toBe(true);
    expect(matches('emails[type eq "other"].value eq "a@home.example"')).toBe(false);
  });
});

describe('scim/list listResponse', () => {
  it('is an RFC 7644 ListResponse whose itemsPerPage counts the resources given', () => {
    expect(listResponse([{ id: 'a' }, { id: 'b' }], 9, 3)).toEqual({
      schemas: [LIST_RESPONSE_SCHEMA],
      totalResults: 9,
      Resources: [{ id: 'a' }, { id: 'b' }],
      startIndex: 3,
      itemsPerPage: 2,
    });
  });

  it('treats a missing or blank filter as none', () => {
    expect(hasFilter({})).toBe(false);
    expect(hasFilter({ filter: '  ' })).toBe(false);
    expect(hasFilter({ filter: 'userName eq "a"' })).toBe(true);
  });
});
