import type { Connection } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { isRecord } from '../is-record.ts';
import { nonEmpty, toIsoTime } from '../sources/shared/values.ts';
import { validateWorkosUser, type WorkosDirectoryUser } from '../sources/workos/schema.ts';
import { workosUserToChange } from '../sources/workos/to-changes.ts';
import { readCredential } from './credentials.ts';
import { afterOf, encodeCursor } from './cursor.ts';
import { createSourceHttp, getPage, type RequestScope, sourceApiError } from './http.ts';
import { listerSettings, SNAPSHOT_EVENT_TYPE, snapshotEventId, UNKNOWN_TIME } from './snapshot.ts';
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
 * to the endpoint's 4/s per directory. The cursor holds `list_metadata.after`. For a connection
 * with a `groups` setting, each user also carries its groups, read through the group endpoints.
 */
export const createWorkosLister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  const {
    api,
    base,
    pageSize: limit,
    credentials,
  } = listerSettings(connection, {
    baseUrl: DEFAULT_BASE_URL,
    maxPageSize: MAX_LIMIT,
  });
  const { directoryId } = api;
  if (directoryId === undefined) {
    throw new ConfigError(`Connection "${connection.id}": reconcile.api.directoryId is required`);
  }
  const http = createSourceHttp(context, { minIntervalMs: WORKOS_MIN_INTERVAL_MS });
  // Memberships cost a request per group: read only for a connection that maps groups.
  const listGroups = connection.groups !== undefined;

  /**
   * One WorkOS list request: `{data, list_metadata}`. A refused `after` is an expired cursor only
   * for the users listing the caller resumes; inside a membership listing it is a failure.
   */
  const listRequest = async (
    path: string,
    params: Record<string, string>,
    after: string | undefined,
    scope: RequestScope,
    resumed: boolean,
    signal: AbortSignal | undefined,
  ): Promise<{ data: unknown[]; after: string | undefined }> => {
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.set('limit', String(limit));
    url.searchParams.set('order', 'asc');
    if (after !== undefined) url.searchParams.set('after', after);
    const apiKey = await readCredential(context.secrets, credentials, 'apiKey');
    const { body } = await getPage(
      http,
      { url: url.href, authorization: `Bearer ${apiKey}`, signal },
      scope,
      resumed,
    );
    if (!isRecord(body) || !Array.isArray(body.data)) {
      throw sourceApiError('SOURCE_API_FAILED', scope, 'the answer is not a list');
    }
    const metadata = isRecord(body.list_metadata) ? body.list_metadata : {};
    const next =
      typeof metadata.after === 'string' && metadata.after !== '' ? metadata.after : undefined;
    return { data: body.data, after: next };
  };

  /** Every page of one listing, for memberships (small next to the users). */
  const everything = async (
    path: string,
    params: Record<string, string>,
    scope: RequestScope,
    signal: AbortSignal | undefined,
  ): Promise<unknown[]> => {
    const items: unknown[] = [];
    let after: string | undefined;
    do {
      const page = await listRequest(path, params, after, scope, false, signal);
      items.push(...page.data);
      after = page.after;
    } while (after !== undefined);
    return items;
  };

  /**
   * Directory user id → its groups. The directory user's own `groups` is deprecated (empty for
   * teams created after 2026-05-01), so memberships are read per group: `/directory_groups` of
   * the directory, then `/directory_users?group=` of each. Once per lister; a resumed run reads
   * them again.
   */
  type Group = { id: string; name?: string };
  let memberships: Promise<{ byUser: Map<string, Group[]>; all: Group[] }> | undefined;
  const membershipsOf = (scope: RequestScope, signal: AbortSignal | undefined) => {
    memberships ??= (async () => {
      const byUser = new Map<string, Group[]>();
      const all: Group[] = [];
      const groups = await everything(
        '/directory_groups',
        { directory: directoryId },
        scope,
        signal,
      );
      for (const group of groups) {
        if (!isRecord(group) || typeof group.id !== 'string') {
          throw sourceApiError('SOURCE_API_FAILED', scope, 'a directory group has no id');
        }
        const name = nonEmpty(group.name);
        const entry = name === undefined ? { id: group.id } : { id: group.id, name };
        all.push(entry);
        for (const member of await everything(
          '/directory_users',
          { group: group.id },
          scope,
          signal,
        )) {
          if (!isRecord(member) || typeof member.id !== 'string') continue;
          byUser.set(member.id, [...(byUser.get(member.id) ?? []), entry]);
        }
      }
      return { byUser, all };
    })();
    // A failed read is not kept: the next page (or a resumed run) reads them again.
    memberships.catch(() => {
      memberships = undefined;
    });
    return memberships;
  };

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
      const after = afterOf(scope);
      const page = await listRequest(
        '/directory_users',
        { directory: directoryId },
        after,
        scope,
        after !== undefined,
        options.signal,
      );
      const groups = listGroups ? await membershipsOf(scope, options.signal) : undefined;
      const users = page.data.map((user: unknown, index) => {
        if (!validateWorkosUser(user)) {
          throw sourceApiError('SOURCE_API_FAILED', scope, `user ${index} has an unexpected shape`);
        }
        const listed = toSourceUser(user, user);
        return groups === undefined
          ? listed
          : { ...listed, groups: groups.byUser.get(user.id) ?? [] };
      });
      return {
        users,
        ...(groups === undefined ? {} : { groups: groups.all }),
        next: page.after === undefined ? undefined : encodeCursor(API, { after: page.after }),
      };
    },
  };
};
