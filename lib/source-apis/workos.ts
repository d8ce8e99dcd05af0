import type { Connection } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { nonEmpty, toIsoTime } from '../sources/shared/values.ts';
import { validateWorkosUser, type WorkosDirectoryUser } from '../sources/workos/schema.ts';
import { workosUserToChange } from '../sources/workos/to-changes.ts';
import { readCredential } from './credentials.ts';
import { cursorString, decodeCursor, encodeCursor } from './cursor.ts';
import {
  createSourceHttp,
  type RequestScope,
  readJson,
  refusedPage,
  sourceApiError,
} from './http.ts';
import {
  apiConfigOf,
  baseUrlOf,
  SNAPSHOT_EVENT_TYPE,
  snapshotEventId,
  UNKNOWN_TIME,
} from './snapshot.ts';
import type { SourceApiContext, SourceUser, SourceUserLister } from './types.ts';

const API = 'workos';
const DEFAULT_BASE_URL = 'https://api.workos.com';
const MAX_LIMIT = 100;
/** `/directory_users` allows 4 requests/s per directory. */
export const WORKOS_MIN_INTERVAL_MS = 250;

/** The deprecated `groups` of a directory user, when WorkOS still sends them. */
const groupsOf = (user: unknown): { id: string; name?: string }[] | undefined => {
  if (!isRecord(user) || !Array.isArray(user.groups) || user.groups.length === 0) return undefined;
  return user.groups.flatMap((group: unknown) => {
    if (!isRecord(group) || typeof group.id !== 'string') return [];
    const name = nonEmpty(group.name);
    return [name === undefined ? { id: group.id } : { id: group.id, name }];
  });
};

/**
 * WorkOS Directory Sync `GET /directory_users?directory=…`: `{data, list_metadata: {after}}`,
 * oldest first; the next page is `after=list_metadata.after` until it is null. Requests are paced
 * to the endpoint's 4/s per directory. The cursor holds `list_metadata.after`.
 */
export const createWorkosLister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  const api = apiConfigOf(connection);
  const base = baseUrlOf(api, DEFAULT_BASE_URL);
  const limit = Math.min(api.pageSize ?? MAX_LIMIT, MAX_LIMIT);
  const { credentials, directoryId } = api;
  if (credentials === undefined || directoryId === undefined) {
    throw new ConfigError(
      `Connection "${connection.id}": reconcile.api.credentials and directoryId are required`,
    );
  }
  const http = createSourceHttp(context, { minIntervalMs: WORKOS_MIN_INTERVAL_MS });

  const toSourceUser = (user: WorkosDirectoryUser, raw: unknown): SourceUser => {
    const updatedAt = toIsoTime(user.updated_at) ?? toIsoTime(user.created_at) ?? UNKNOWN_TIME;
    // A directory user is the `data` of `dsync.user.updated`: the same conversion.
    const change = workosUserToChange({
      connectionId: connection.id,
      event: {
        id: snapshotEventId(user.id, updatedAt),
        event: SNAPSHOT_EVENT_TYPE,
        data: user as unknown as Record<string, unknown>,
      },
      user,
      deliveredAtMs: Date.parse(updatedAt),
    });
    const groups = groupsOf(raw);
    return {
      externalId: user.id,
      updatedAt,
      change,
      ...(isRecord(raw) && raw.state === 'inactive' ? { deprovisioned: true } : {}),
      ...(groups === undefined ? {} : { groups }),
    };
  };

  return {
    async listPage(cursor, options = {}) {
      const scope: RequestScope = { api: API, cursor };
      const after =
        cursor === undefined
          ? undefined
          : cursorString(decodeCursor({ ...scope, cursor }), 'after', scope);
      const url = new URL(`${base}/directory_users`);
      url.searchParams.set('directory', directoryId);
      url.searchParams.set('limit', String(limit));
      url.searchParams.set('order', 'asc');
      if (after !== undefined) url.searchParams.set('after', after);
      const apiKey = await readCredential(context.secrets, credentials, 'apiKey');
      const response = await http.send(
        {
          url: url.href,
          headers: { authorization: `Bearer ${apiKey}` },
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
        scope,
      );
      if (response.status >= 400) throw await refusedPage(response, scope, after !== undefined);
      const body = await readJson(response, scope);
      if (!isRecord(body) || !Array.isArray(body.data)) {
        throw sourceApiError('SOURCE_API_FAILED', scope, 'the answer is not a list');
      }
      const users = body.data.map((user: unknown, index) => {
        if (!validateWorkosUser(user)) {
          throw sourceApiError('SOURCE_API_FAILED', scope, `user ${index} has an unexpected shape`);
        }
        return toSourceUser(user, user);
      });
      const metadata = isRecord(body.list_metadata) ? body.list_metadata : {};
      const nextAfter =
        typeof metadata.after === 'string' && metadata.after !== '' ? metadata.after : undefined;
      return {
        users,
        next: nextAfter === undefined ? undefined : encodeCursor(API, { after: nextAfter }),
      };
    },
  };
};
