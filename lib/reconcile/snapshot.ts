import type { ResolveStrategy } from '../ciam/resolve.ts';
import type { CallOptions, CiamApi, CiamUser } from '../ciam/types.ts';

/**
 * Users per DescribeUser page. CIAM documents no maximum page size; 100 is what its own examples
 * use, and it keeps planning at one CIAM call per 100 users (0.01 a user).
 */
export const SNAPSHOT_PAGE_SIZE = 100;

export interface CiamSnapshot {
  users: CiamUser[];
  /** DescribeUser calls the read took. */
  calls: number;
}

/**
 * Every user of a user store, read page by page with DescribeUser (`Original: true`, so emails and
 * phones come unmasked and can be compared). One call per page rather than one DescribeUserById
 * per user: planning 10,000 users costs 100 calls. A user created while the pages are read may be
 * missed or, if the order shifts, seen twice; the planner keeps the first copy of a UserId, and a
 * missed user only makes its source user `unmatched` for this run (creation checks again first).
 */
export const readCiamSnapshot = async (
  ciam: Pick<CiamApi, 'describeUser'>,
  userStoreId: string,
  options: CallOptions & { pageSize?: number } = {},
): Promise<CiamSnapshot> => {
  const pageSize = options.pageSize ?? SNAPSHOT_PAGE_SIZE;
  const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
  const users: CiamUser[] = [];
  const seen = new Set<string>();
  let calls = 0;
  for (let pageNumber = 1; ; pageNumber += 1) {
    const page = await ciam.describeUser(
      {
        UserStoreId: userStoreId,
        Pageable: { PageSize: pageSize, PageNumber: pageNumber },
        Original: true,
      },
      call,
    );
    calls += 1;
    const content = page.Content ?? [];
    for (const user of content) {
      if (user.UserId === undefined || seen.has(user.UserId)) continue;
      seen.add(user.UserId);
      users.push(user);
    }
    // A short page is the last; so is reaching the total (a store that grew meanwhile would
    // otherwise keep the loop going one page at a time).
    if (content.length < pageSize || pageNumber * pageSize >= (page.Total ?? 0)) break;
  }
  return { users, calls };
};

/** The value a CIAM user is found by under a resolve strategy, normalised as the lookup sends it. */
export const ciamUserKey = (strategy: ResolveStrategy, user: CiamUser): string | undefined => {
  let value: string | undefined;
  switch (strategy.by) {
    case 'userId':
      value = user.UserId;
      break;
    case 'email':
      value = user.Email?.trim().toLowerCase();
      break;
    case 'phone':
      // CIAM holds the number as the mapping wrote it, which is what the lookup normalises to.
      value = user.PhoneNumber;
      break;
    case 'indexedAttribute':
      value = user[`IndexedAttribute${strategy.index}`];
      break;
  }
  return value === undefined || value === '' ? undefined : value;
};

/** CIAM users by the connection's resolve key; a key several users share maps to all of them. */
export const indexSnapshot = (
  strategy: ResolveStrategy,
  users: readonly CiamUser[],
): Map<string, CiamUser[]> => {
  const index = new Map<string, CiamUser[]>();
  for (const user of users) {
    const key = ciamUserKey(strategy, user);
    if (key === undefined) continue;
    const list = index.get(key);
    if (list === undefined) index.set(key, [user]);
    else list.push(user);
  }
  return index;
};
