import type { Connection } from '../config/types.ts';
import { isRecord } from '../is-record.ts';
import { toIsoTime } from '../sources/shared/values.ts';
import type { ClerkUser } from '../sources/standard-webhooks/schema.ts';
import { validateClerkUser } from '../sources/standard-webhooks/schema.ts';
import { clerkUserToChange } from '../sources/standard-webhooks/to-changes.ts';
import { readCredential } from './credentials.ts';
import { afterOf, encodeCursor } from './cursor.ts';
import { createSourceHttp, getPage, type RequestScope, sourceApiError } from './http.ts';
import { listerSettings, SNAPSHOT_EVENT_TYPE, snapshotEventId, UNKNOWN_TIME } from './snapshot.ts';
import type { SourceApiContext, SourceUser, SourceUserLister } from './types.ts';

const API = 'clerk';
const DEFAULT_BASE_URL = 'https://api.clerk.com';
const MAX_LIMIT = 500;

/**
 * Clerk Backend API `GET /v1/users`: a bare array per page. Deep `offset`s get slower until they
 * time out, so pages follow `starting_after=<last user id>` in `+created_at` order (the only
 * order Clerk allows it with); a page shorter than `limit` is the last. The cursor holds the
 * last user id listed.
 */
export const createClerkLister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  const {
    base,
    pageSize: limit,
    credentials,
  } = listerSettings(connection, {
    baseUrl: DEFAULT_BASE_URL,
    maxPageSize: MAX_LIMIT,
  });
  const http = createSourceHttp(context);

  const toSourceUser = (user: ClerkUser): SourceUser => {
    const updatedAt = toIsoTime(user.updated_at ?? undefined) ?? UNKNOWN_TIME;
    // Clerk's Backend API user is the `data` of its `user.updated` webhook: the same conversion.
    const change = clerkUserToChange({
      connectionId: connection.id,
      eventId: snapshotEventId(user.id, updatedAt),
      event: { type: SNAPSHOT_EVENT_TYPE, data: user as unknown as Record<string, unknown> },
      user,
      deliveredAtMs: Date.parse(updatedAt),
    });
    return { externalId: user.id, updatedAt, change };
  };

  return {
    async listPage(cursor, options = {}) {
      const scope: RequestScope = { api: API, cursor };
      const after = afterOf(scope);
      const url = new URL(`${base}/v1/users`);
      url.searchParams.set('limit', String(limit));
      url.searchParams.set('order_by', '+created_at');
      if (after !== undefined) url.searchParams.set('starting_after', after);
      const secretKey = await readCredential(context.secrets, credentials, 'secretKey');
      const { body } = await getPage(
        http,
        { url: url.href, authorization: `Bearer ${secretKey}`, signal: options.signal },
        scope,
        after !== undefined,
      );
      if (!Array.isArray(body)) {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the user list is not an array');
      }
      // An instance that ignored starting_after would answer the first page again, forever.
      if (after !== undefined && body.some((user) => isRecord(user) && user.id === after)) {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the API ignored starting_after');
      }
      const users = body.map((user, index) => {
        if (!validateClerkUser(user)) {
          throw sourceApiError('SOURCE_API_FAILED', scope, `user ${index} has an unexpected shape`);
        }
        return toSourceUser(user);
      });
      const last = users.at(-1);
      return {
        users,
        next:
          users.length < limit || last === undefined
            ? undefined
            : encodeCursor(API, { after: last.externalId }),
      };
    },
  };
};
