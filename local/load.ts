// Load for `npm run soak` and `npm run bench:queue`: many demo users, Clerk user.updated events
// for them, and a signed, concurrent sender. One place, so both drive the adapter the same way.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadSeed, type Seed } from '../emulator/server.ts';

/** The demo Clerk secret (config/local-secrets.json). */
const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

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

/**
 * A config file holding only `clerk-queued` (config/local.json's), in a temp folder.
 * `ciam` overrides settings such as the client's timeout.
 */
export const writeQueuedConfig = (ciam: Record<string, unknown> = {}): string => {
  const local = JSON.parse(readFileSync('config/local.json', 'utf8'));
  const queued = local.connections.find((c: { id: string }) => c.id === 'clerk-queued');
  const path = join(mkdtempSync(join(tmpdir(), 'ciam-load-')), 'config.json');
  writeFileSync(
    path,
    JSON.stringify({ ...local, ciam: { ...local.ciam, ...ciam }, connections: [queued] }),
  );
  return path;
};

export interface LoadEvent {
  /** The svix-id; the same id and body sent twice is one event delivered twice. */
  id: string;
  body: string;
}

/** A Clerk user.updated whose first name labels the change and whose time orders it. */
export const clerkUserUpdated = (
  id: string,
  externalId: string,
  firstName: string,
  updatedAt: number,
): LoadEvent => {
  const data = {
    id: externalId,
    object: 'user',
    first_name: firstName,
    last_name: '',
    email_addresses: [],
    phone_numbers: [],
    created_at: 1_700_000_000_000,
    updated_at: updatedAt,
  };
  return {
    id,
    body: JSON.stringify({ type: 'user.updated', object: 'event', timestamp: updatedAt, data }),
  };
};

/**
 * Posts every event to `url`, signed at send time, `concurrency` at a time, in the given order;
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
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'svix-id': event.id,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': webhook.sign(event.id, at, event.body),
        },
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
