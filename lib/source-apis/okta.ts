import type { Connection } from '../config/types.ts';
import { type OktaUser, validateOktaUser } from '../sources/okta/schema.ts';
import { oktaUserToChange } from '../sources/okta/to-changes.ts';
import { toIsoTime } from '../sources/shared/values.ts';
import { readCredential } from './credentials.ts';
import { cursorString, decodeCursor, encodeCursor } from './cursor.ts';
import { createSourceHttp, getPage, type RequestScope, sourceApiError } from './http.ts';
import { listerSettings, SNAPSHOT_EVENT_TYPE, snapshotEventId, UNKNOWN_TIME } from './snapshot.ts';
import type { SourceApiContext, SourceUser, SourceUserLister } from './types.ts';

const API = 'okta';
const MAX_LIMIT = 200;

/**
 * The `rel="next"` target of a `Link` header. Okta documents one comma-joined header and often
 * sends the header repeated; fetch joins repeated headers with ", ", so both read the same here.
 * The URL sits in angle brackets and may itself hold commas, so entries are matched, not split.
 */
export const nextLink = (header: string | null): string | undefined => {
  if (header === null) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
    const params = match[2] ?? '';
    for (const param of params.split(';')) {
      const [name, value] = param.split('=').map((part) => part.trim());
      if (name?.toLowerCase() !== 'rel' || value === undefined) continue;
      const rels = value.replace(/^"|"$/g, '').toLowerCase().split(/\s+/);
      if (rels.includes('next')) return match[1];
    }
  }
  return undefined;
};

/**
 * The two passes: the plain list omits DEPROVISIONED users, and a reconciler that never saw them
 * would call them orphans; so a second pass lists them with `filter=status eq "DEPROVISIONED"`
 * (filter, not search: search is eventually consistent).
 */
type Phase = 'all' | 'deprovisioned';

/**
 * Okta Users API `GET /api/v1/users`: pages follow the `Link: <…>; rel="next"` URL Okta gives
 * (never one built here), until a page has none. The cursor holds the pass and that URL.
 */
export const createOktaLister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  // Okta's Users API token is the connection's own apiToken unless reconcile names another.
  const {
    base,
    pageSize: limit,
    credentials,
  } = listerSettings(connection, {
    baseUrl: undefined,
    maxPageSize: MAX_LIMIT,
    ...(connection.secrets.apiToken === undefined
      ? {}
      : { credentials: connection.secrets.apiToken }),
  });
  const http = createSourceHttp(context);

  const firstUrl = (phase: Phase): string => {
    const url = new URL(`${base}/api/v1/users`);
    url.searchParams.set('limit', String(limit));
    if (phase === 'deprovisioned') url.searchParams.set('filter', 'status eq "DEPROVISIONED"');
    return url.href;
  };

  const toSourceUser = (user: OktaUser): SourceUser => {
    const updatedAt = toIsoTime(user.lastUpdated) ?? toIsoTime(user.created) ?? UNKNOWN_TIME;
    const change = oktaUserToChange({
      connectionId: connection.id,
      eventId: snapshotEventId(user.id, updatedAt),
      eventType: SNAPSHOT_EVENT_TYPE,
      occurredAt: updatedAt,
      user,
    });
    return {
      externalId: user.id,
      updatedAt,
      change,
      ...(user.status === 'DEPROVISIONED' ? { deprovisioned: true } : {}),
    };
  };

  return {
    async listPage(cursor, options = {}) {
      const scope: RequestScope = { api: API, cursor };
      let phase: Phase = 'all';
      let url = firstUrl('all');
      if (cursor !== undefined) {
        const state = decodeCursor({ ...scope, cursor });
        phase = cursorString(state, 'phase', scope) === 'deprovisioned' ? 'deprovisioned' : 'all';
        url = state.url === undefined ? firstUrl(phase) : cursorString(state, 'url', scope);
      }
      // The API token goes only to the configured org, whatever a cursor or a Link says.
      if (!url.startsWith(`${base}/`)) {
        throw sourceApiError('SOURCE_CURSOR_EXPIRED', scope, 'the cursor points outside the org');
      }
      const token = await readCredential(context.secrets, credentials, 'apiToken');
      const { body, headers } = await getPage(
        http,
        { url, authorization: `SSWS ${token}`, signal: options.signal },
        scope,
        url !== firstUrl(phase),
      );
      const link = headers.get('link');
      if (!Array.isArray(body)) {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the user list is not an array');
      }
      const users = body.map((user: unknown, index) => {
        if (!validateOktaUser(user)) {
          throw sourceApiError('SOURCE_API_FAILED', scope, `user ${index} has an unexpected shape`);
        }
        return toSourceUser(user);
      });
      const linked = nextLink(link);
      // Absolute in Okta's answers; resolved anyway, in case a proxy rewrites it to a path.
      const next = linked === undefined ? undefined : new URL(linked, url).href;
      if (next !== undefined) return { users, next: encodeCursor(API, { phase, url: next }) };
      return {
        users,
        next: phase === 'all' ? encodeCursor(API, { phase: 'deprovisioned' }) : undefined,
      };
    },
  };
};
