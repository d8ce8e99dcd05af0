import { randomUUID } from 'node:crypto';
import type { AdapterConfig, Connection, WebhookSourceType } from '../lib/config/types.ts';
import type { SecretSource } from '../lib/secrets/types.ts';
import { SENDERS } from '../lib/sources/senders.ts';
import type { TencentClient } from '../lib/tencent/client.ts';

/**
 * `npm run demo`: one signed sample delivery per demo connection of `npm start`, each a new
 * event (fresh id, happened now, so the stale-event guard applies it however often you run it),
 * and what it changed in the emulator's users.
 */

/** The sources with a sample in events/ (`<sample>.user-updated.json`). */
const SAMPLE_OF_SOURCE: Partial<Record<WebhookSourceType, DemoSample>> = {
  'standard-webhooks': 'clerk',
  workos: 'workos',
  auth0: 'auth0',
  hmac: 'hmac',
};
export type DemoSample =
  | 'acme-hmac'
  | 'clerk'
  | 'workos'
  | 'auth0'
  | 'hmac'
  | 'clerk-membership'
  | 'workos-group';

/** Each sample's file in events/ (`<file>.json`). */
export const SAMPLE_FILES: Readonly<Record<DemoSample, string>> = {
  'acme-hmac': 'acme-hmac.user-updated',
  clerk: 'clerk.user-updated',
  workos: 'workos.user-updated',
  auth0: 'auth0.user-updated',
  hmac: 'hmac.user-updated',
  'clerk-membership': 'clerk.organization-membership-created',
  'workos-group': 'workos.group-user-added',
};

/** Connections with a sample of their own: the second demo tenant's writes to its own users. */
const SAMPLE_OF_CONNECTION: Readonly<Record<string, DemoSample>> = { 'acme-hmac': 'acme-hmac' };

/** A group membership sample sent after the user sample, on sync connections of these sources. */
const GROUP_SAMPLE_OF_SOURCE: Partial<Record<WebhookSourceType, DemoSample>> = {
  'standard-webhooks': 'clerk-membership',
  workos: 'workos-group',
};

export interface DemoConnection {
  id: string;
  source: WebhookSourceType;
  sample: DemoSample;
  /** Sent after `sample`: a group membership event, shown as the user's groups before and after. */
  groupSample?: DemoSample;
  delivery: Connection['delivery'];
  userStoreId: string;
  connection: Connection;
}

/** The connections of a config a sample can be sent to (Okta and SCIM need more than a POST). */
export const demoConnections = (config: AdapterConfig): DemoConnection[] =>
  config.connections.flatMap((connection) => {
    const { source } = connection;
    if (source === 'scim') return [];
    const sample = SAMPLE_OF_CONNECTION[connection.id] ?? SAMPLE_OF_SOURCE[source];
    const groupSample = connection.delivery === 'sync' ? GROUP_SAMPLE_OF_SOURCE[source] : undefined;
    return sample === undefined
      ? []
      : [
          {
            id: connection.id,
            source,
            sample,
            ...(groupSample === undefined ? {} : { groupSample }),
            delivery: connection.delivery,
            userStoreId: connection.userStoreId,
            connection,
          },
        ];
  });

/**
 * For `npm start`: each demo connection's URL and the command that sends it a sample; `env` is
 * what the command needs in front when `npm start` runs on other ports (e.g. `PORT=3300`).
 */
export const demoLines = (
  baseUrl: string,
  connections: readonly DemoConnection[],
  env = '',
): string[] => {
  const url = (c: DemoConnection) => `${baseUrl}/webhooks/${c.id}`;
  const idWidth = Math.max(0, ...connections.map((c) => c.id.length));
  const urlWidth = Math.max(0, ...connections.map((c) => url(c).length));
  return connections.map(
    (c) =>
      `  ${c.id.padEnd(idWidth)}  ${c.delivery.padEnd(6)}  ${url(c).padEnd(urlWidth)}  ${env === '' ? '' : `${env} `}npm run demo -- ${c.id}`,
  );
};

interface SampleEvent {
  id?: string;
  timestamp?: number;
  time?: string;
  created_at?: string;
  data: {
    updated_at?: number | string;
    last_name?: string;
    object?: { updated_at?: string };
  };
}

const hex = () => randomUUID().replaceAll('-', '');

/**
 * A new occurrence of the sample event: happened now, with its own id, returned for senders that
 * send it in a header (Svix's message id, the HMAC connection's event id header).
 */
const restamp: Record<DemoSample, (event: SampleEvent, now: number) => string> = {
  clerk: (event, now) => {
    event.timestamp = now;
    event.data.updated_at = now;
    return `msg_${hex()}`;
  },
  workos: (event, now) => {
    event.id = `event_${hex()}`;
    event.created_at = new Date(now).toISOString();
    event.data.updated_at = new Date(now).toISOString();
    return event.id;
  },
  auth0: (event, now) => {
    event.id = `evt_${hex()}`;
    event.time = new Date(now).toISOString();
    if (event.data.object !== undefined) event.data.object.updated_at = new Date(now).toISOString();
    return event.id;
  },
  hmac: () => `evt_${hex()}`,
  'acme-hmac': () => `evt_${hex()}`,
  'clerk-membership': (event, now) => {
    event.timestamp = now;
    event.data.updated_at = now;
    return `msg_${hex()}`;
  },
  'workos-group': (event, now) => {
    event.id = `event_${hex()}`;
    event.created_at = new Date(now).toISOString();
    return event.id;
  },
};

const signingSecret = async (secrets: SecretSource, connection: Connection): Promise<string> => {
  const [reference] = connection.secrets.signing;
  if (reference === undefined) throw new Error(`${connection.id} has no signing secret`);
  return secrets.getString(reference);
};

export interface DemoRequest {
  body: string;
  headers: Record<string, string>;
}

/** The sample body for `demo`, restamped and signed as the connection's sender would. */
export const demoRequest = async (
  demo: DemoConnection,
  sampleBody: string,
  secrets: SecretSource,
  now: number,
  sample: DemoSample = demo.sample,
): Promise<DemoRequest> => {
  const event = JSON.parse(sampleBody) as SampleEvent;
  const eventId = restamp[sample](event, now);
  // A queued twin of a sync connection would write the same values; make its change visible.
  if (demo.delivery === 'queued' && typeof event.data.last_name === 'string') {
    event.data.last_name = `${event.data.last_name} (queued)`;
  }
  const body = JSON.stringify(event);
  const secret = await signingSecret(secrets, demo.connection);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      ...SENDERS[demo.source]({ body, secret, nowMs: now, eventId }, demo.connection.options),
    },
  };
};

type User = Record<string, unknown> & { UserId: string };

/** Every user of the store, by id (the emulator's store is small: one page). */
const snapshot = async (tencent: TencentClient, userStoreId: string) => {
  const users = new Map<string, User>();
  for (let page = 1; ; page++) {
    const { Content = [], Total = 0 } = await tencent.call<{ Content?: User[]; Total?: number }>(
      'ListUser',
      { UserStoreId: userStoreId, Pageable: { PageSize: 100, PageNumber: page } },
    );
    for (const user of Content) users.set(user.UserId, user);
    if (Content.length === 0 || users.size >= Total) return users;
  }
};

// The adapter's own bookkeeping (field clocks, and the marks of earlier versions).
const BOOKKEEPING = /^adapter_(field_clocks|watermark)/;
const SHOWN = [
  'UserName',
  'Nickname',
  'Email',
  'PhoneNumber',
  'Birthdate',
  'IndexedAttribute1',
  'IndexedAttribute2',
  'IndexedAttribute3',
  'IndexedAttribute4',
  'IndexedAttribute5',
] as const;

/** The fields a reader cares about; custom attributes as name=value, the clocks left out. */
const view = (user: User | undefined): Record<string, string> => {
  const fields: Record<string, string> = {};
  if (user === undefined) return fields;
  for (const name of SHOWN) {
    const value = user[name];
    if (value !== undefined && value !== null && value !== '') fields[name] = String(value);
  }
  const custom = (user.CustomizationAttributes ?? []) as { Name: string; Value: unknown }[];
  for (const attribute of custom) {
    if (!BOOKKEEPING.test(attribute.Name)) fields[attribute.Name] = String(attribute.Value);
  }
  const groups = (user.UserGroupNames ?? user.UserGroups ?? []) as string[];
  if (groups.length > 0) fields.groups = [...groups].sort().join(', ');
  return fields;
};

export interface DemoRow {
  connection: string;
  answer: string;
  userId: string;
  field: string;
  before: string;
  after: string;
}

export interface RunDemoOptions {
  baseUrl: string;
  connections: readonly DemoConnection[];
  readSample: (sample: DemoSample) => string;
  secrets: SecretSource;
  /**
   * A client of the emulator, signed with the demo credentials; per connection when they write
   * to different tenants (each sees only its own account's stores).
   */
  tencent: TencentClient | ((connection: Connection) => TencentClient);
  fetch?: typeof fetch;
  now?: () => number;
  /** How long to wait for the local queue to apply a queued change. */
  queueTimeoutMs?: number;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `npm start`'s queue holds nothing (applied, or dead-lettered: see the answer). */
const drained = async (baseUrl: string, fetchImpl: typeof fetch, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = (await (await fetchImpl(`${baseUrl}/__queue/stats`)).json()) as {
      queue: { total: number };
      deadLetterQueue: { total: number };
    };
    if (stats.queue.total === 0) return stats.deadLetterQueue.total;
    if (Date.now() > deadline) throw new Error(`the local queue still holds ${stats.queue.total}`);
    await sleep(100);
  }
};

/**
 * Sends one sample per connection, one after another (a queued one is waited for), and returns
 * per connection the answer and each changed field of each user, before and after.
 */
export const runDemo = async (options: RunDemoOptions): Promise<DemoRow[]> => {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const rows: DemoRow[] = [];
  const sends = options.connections.flatMap((demo) => [
    { demo, sample: demo.sample, label: demo.id },
    ...(demo.groupSample === undefined
      ? []
      : [{ demo, sample: demo.groupSample, label: `${demo.id} (group)` }]),
  ]);
  for (const { demo, sample, label } of sends) {
    const tencent =
      typeof options.tencent === 'function' ? options.tencent(demo.connection) : options.tencent;
    const before = await snapshot(tencent, demo.userStoreId);
    const request = await demoRequest(
      demo,
      options.readSample(sample),
      options.secrets,
      now(),
      sample,
    );
    const url = `${options.baseUrl}/webhooks/${demo.id}`;
    const response = await fetchImpl(url, { method: 'POST', ...request });
    const text = await response.text();
    log(`POST ${url} → ${response.status} ${text}`);
    let answer = String(response.status);
    try {
      const parsed = JSON.parse(text) as { status?: string; code?: string; reason?: string };
      answer = `${response.status} ${parsed.status ?? parsed.code ?? ''}${parsed.reason ? ` (${parsed.reason})` : ''}`;
    } catch {}
    if (response.status === 202) {
      const deadLetters = await drained(
        options.baseUrl,
        fetchImpl,
        options.queueTimeoutMs ?? 30_000,
      );
      answer += deadLetters > 0 ? `, then ${deadLetters} in the DLQ` : ', then applied';
    }
    const after = await snapshot(tencent, demo.userStoreId);
    let changed = false;
    for (const [userId, user] of after) {
      const was = view(before.get(userId));
      const is = view(user);
      for (const field of new Set([...Object.keys(was), ...Object.keys(is)])) {
        if (was[field] === is[field]) continue;
        changed = true;
        rows.push({
          connection: label,
          answer,
          userId,
          field,
          before: was[field] ?? '',
          after: is[field] ?? '',
        });
      }
    }
    if (!changed) {
      rows.push({ connection: label, answer, userId: '', field: '', before: '', after: '' });
    }
  }
  return rows;
};

/** A plain text table (columns padded, one header line). */
export const formatTable = (rows: readonly DemoRow[]): string => {
  const header: DemoRow = {
    connection: 'connection',
    answer: 'answer',
    userId: 'user',
    field: 'field',
    before: 'before',
    after: 'after',
  };
  const keys = Object.keys(header) as (keyof DemoRow)[];
  const all = [header, ...rows];
  const widths = keys.map((key) => Math.max(...all.map((row) => row[key].length)));
  return all
    .map((row) =>
      keys
        .map((key, index) => row[key].padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};
