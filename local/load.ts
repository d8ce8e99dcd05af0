// Load for `npm run soak` and `npm run bench:queue`: many demo users, Clerk user.updated events
// and partial hmac changes for them, and a signed, concurrent sender. One place, so both drive the
// adapter the same way.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadSeed, type Seed } from '../emulator/server.ts';
import { type DeliveryHeaders, SENDERS } from '../lib/sources/senders.ts';

/** The demo Clerk secret (config/local-secrets.json). */
const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** The demo hmac secret (config/local-secrets.json). */
const HMAC_SECRET = 'demo-hmac-secret';

/** The queued hmac connection writeQueuedConfig adds on request. */
export const HMAC_QUEUED = 'hmac-queued';

export const userIdOf = (prefix: string, index: number) => `${prefix}-user-${index}`;
export const externalIdOf = (prefix: string, index: number) => `ext-${prefix}-${index}`;

/** The emulator's seed with `count` users of its own, found by IndexedAttribute1. */
export const seedWithUsers = (prefix: string, count: number, base = 8100): Seed => {
  const seed = loadSeed('emulator/seed.json');
  const store = seed.userStores[0];
  if (store === undefined) throw new Error('the seed has no user store');
  store.Users = Array.from({ length: count }, (_, i) => ({
    UserId: userIdOf(prefix, i),
    UserName: `${prefix}${i}`,
    Email: `${prefix}${i}@example.org`,
    PhoneNumber: `+65${base}${String(i).padStart(4, '0')}`,
    IndexedAttribute1: externalIdOf(prefix, i),
    Status: 'NORMAL',
    CreatedDate: 1704067200000,
    LastModifiedDate: 1704067200000,
  }));
  return seed;
};

interface LocalConnection {
  id: string;
  options: Record<string, unknown>;
  [key: string]: unknown;
}

const readLocalConfig = () =>
  JSON.parse(readFileSync('config/local.json', 'utf8')) as {
    ciam: Record<string, unknown>;
    connections: LocalConnection[];
  };

const localConnection = (id: string): LocalConnection => {
  const connection = readLocalConfig().connections.find((c) => c.id === id);
  if (connection === undefined) throw new Error(`config/local.json has no connection ${id}`);
  return connection;
};

/**
 * config/local.json's hmac connection, queued, on the same user store as `clerk-queued`, and
 * dating its changes by the body's `at` (epoch milliseconds): without an event time of their own,
 * its changes would be clocked by when they arrived, and could not be ordered against Clerk's.
 */
const hmacQueuedConnection = (): LocalConnection => {
  const hmac = localConnection('hmac');
  const schema = hmac.options.payloadSchema as { properties: Record<string, unknown> };
  return {
    ...hmac,
    id: HMAC_QUEUED,
    delivery: 'queued',
    options: {
      ...hmac.options,
      payloadSchema: { ...schema, properties: { ...schema.properties, at: { type: 'integer' } } },
      fields: { ...(hmac.options.fields as Record<string, string>), occurredAt: 'at' },
    },
  };
};

/**
 * A config file holding `clerk-queued` (config/local.json's), and with `hmac` the queued hmac
 * connection too, in a temp folder. `ciam` overrides settings such as the client's timeout.
 */
export const writeQueuedConfig = (
  ciam: Record<string, unknown> = {},
  options: { hmac?: boolean } = {},
): string => {
  const local = readLocalConfig();
  const connections = [localConnection('clerk-queued')];
  if (options.hmac === true) connections.push(hmacQueuedConnection());
  const path = join(mkdtempSync(join(tmpdir(), 'ciam-load-')), 'config.json');
  writeFileSync(path, JSON.stringify({ ...local, ciam: { ...local.ciam, ...ciam }, connections }));
  return path;
};

/** Where an event is posted and how its sender signs it. */
export interface LoadSender {
  url: string;
  headers: (event: LoadEvent, nowMs: number) => DeliveryHeaders;
}

export interface LoadEvent {
  /** The sender's event id; the same id and body sent twice is one event delivered twice. */
  id: string;
  body: string;
  /** Another connection than the Clerk one sendAll posts to by default. */
  sender?: LoadSender;
}

/**
 * A Clerk user.updated whose first name labels the change and whose time orders it; with
 * `contact`, the primary email and phone too (a snapshot then carries all three fields).
 */
export const clerkUserUpdated = (
  id: string,
  externalId: string,
  firstName: string,
  updatedAt: number,
  contact: { email?: string; phone?: string } = {},
): LoadEvent => {
  const data = {
    id: externalId,
    object: 'user',
    first_name: firstName,
    last_name: '',
    email_addresses:
      contact.email === undefined ? [] : [{ id: 'idn_email', email_address: contact.email }],
    primary_email_address_id: contact.email === undefined ? null : 'idn_email',
    phone_numbers:
      contact.phone === undefined ? [] : [{ id: 'idn_phone', phone_number: contact.phone }],
    primary_phone_number_id: contact.phone === undefined ? null : 'idn_phone',
    created_at: 1_700_000_000_000,
    updated_at: updatedAt,
  };
  return {
    id,
    body: JSON.stringify({ type: 'user.updated', object: 'event', timestamp: updatedAt, data }),
  };
};

/** Posts to `url` as the queued hmac connection's sender signs (its event id in `x-event-id`). */
export const hmacQueuedSender = (url: string): LoadSender => {
  const { options } = hmacQueuedConnection();
  return {
    url,
    headers: (event, nowMs) =>
      SENDERS.hmac({ body: event.body, secret: HMAC_SECRET, nowMs, eventId: event.id }, options),
  };
};

/**
 * A partial change from the queued hmac connection: only the fields given, dated `at` (epoch
 * milliseconds), posted with `sender`.
 */
export const hmacPartialUpdate = (
  id: string,
  externalId: string,
  fields: { name?: string; email?: string; phone?: string },
  at: number,
  sender: LoadSender,
): LoadEvent => ({ id, body: JSON.stringify({ id: externalId, at, ...fields }), sender });

/**
 * Posts every event to `url` (or its own sender's), signed at send time, `concurrency` at a time, in the given order;
 * resolves to each event id's answers (HTTP statuses, in send order). `onAnswer` hears how many
 * have been answered so far (a progress line).
 */
export const sendAll = async (
  url: string,
  events: readonly LoadEvent[],
  concurrency: number,
  onAnswer: (answered: number) => void = () => {},
): Promise<Map<string, number[]>> => {
  const webhook = new Webhook(CLERK_SECRET);
  const answers = new Map<string, number[]>();
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next];
      next += 1;
      if (event === undefined) continue;
      const at = new Date();
      const signed = event.sender?.headers(event, at.getTime()) ?? {
        'svix-id': event.id,
        'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
        'svix-signature': webhook.sign(event.id, at, event.body),
      };
      const res = await fetch(event.sender?.url ?? url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed },
        body: event.body,
      });
      await res.arrayBuffer();
      answers.set(event.id, [...(answers.get(event.id) ?? []), res.status]);
      answered += 1;
      onAnswer(answered);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
};
