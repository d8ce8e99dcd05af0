// Signed webhook deliveries for `npm run bench`'s per-source rows: the committed sample of each
// source (events/<sample>.user-updated.json), pointed at one of the bench's seeded users, then
// restamped and signed by `npm run demo`'s own helper (local/demo.ts) with the demo secrets of
// config/local-secrets.json, so the bench signs exactly as the demo and the tests' samples do.
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SeedUser } from '../emulator/server.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { type DemoConnection, demoConnections, demoRequest } from '../local/demo.ts';

/** The sources of config/local.json's webhook connections besides Clerk (scim is its own function). */
export const BENCH_SOURCES = ['workos', 'auth0', 'hmac'] as const;
export type BenchSource = (typeof BENCH_SOURCES)[number];

export interface BenchRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json => (value ?? {}) as Json;

/**
 * The sample's user becomes `user` (external id, email, phone and user name are the seeded user's
 * own, so CIAM's uniqueness rules hold); `label` goes in the name, so every delivery is a change.
 */
const RETARGET: Record<BenchSource, (payload: Json, user: SeedUser, label: string) => void> = {
  workos: (payload, user, label) => {
    const data = object(payload.data);
    data.id = user.IndexedAttribute1;
    data.email = user.Email;
    data.emails = [{ primary: true, type: 'work', value: user.Email }];
    data.username = user.UserName;
    data.first_name = label;
  },
  auth0: (payload, user, label) => {
    const data = object(object(payload.data).object);
    data.user_id = user.IndexedAttribute1;
    data.email = user.Email;
    data.username = user.UserName;
    data.phone_number = user.PhoneNumber;
    data.given_name = label;
    data.name = `${label} Bench`;
    data.nickname = user.UserName;
    data.identities = [
      {
        connection: 'Username-Password-Authentication',
        user_id: user.IndexedAttribute1,
        provider: 'auth0',
        isSocial: false,
      },
    ];
  },
  hmac: (payload, user, label) => {
    payload.id = user.IndexedAttribute1;
    payload.email = user.Email;
    payload.phone = user.PhoneNumber;
    payload.name = label;
  },
};

export interface SourceEvents {
  /** `n` deliveries to the source's demo connection, over `users` in turn, signed now. */
  make(source: BenchSource, n: number): Promise<BenchRequest[]>;
}

export const sourceEvents = (users: readonly SeedUser[]): SourceEvents => {
  // The adapter's own config and file secret source, as `npm run demo` builds them.
  const runtime = createRuntime(
    { ADAPTER_CONFIG: 'config/local.json', ADAPTER_SECRETS_FILE: 'config/local-secrets.json' },
    { logger: new Logger({ logLevel: 'SILENT' }), recordOutcome: () => {} },
  );
  const demos = demoConnections(runtime.config).filter((c) => c.delivery === 'sync');
  const demoOf = (source: BenchSource): DemoConnection => {
    const demo = demos.find((c) => c.sample === source);
    if (demo === undefined) throw new Error(`config/local.json has no sync ${source} connection`);
    return demo;
  };
  const sampleOf = (source: BenchSource): Json =>
    JSON.parse(
      (
        JSON.parse(readFileSync(`events/${source}.user-updated.json`, 'utf8')) as {
          body: string;
        }
      ).body,
    ) as Json;
  let counter = 0;
  return {
    make: async (source, n) => {
      const demo = demoOf(source);
      const sample = sampleOf(source);
      // Event times one millisecond apart, ending now: each change is newer than the one before
      // for its user (the stale guard applies every one), and all are inside the senders' windows.
      const start = Date.now() - n;
      const out: BenchRequest[] = [];
      for (let i = 0; i < n; i += 1) {
        counter += 1;
        const user = users[i % users.length];
        if (user === undefined) throw new Error('no bench users');
        const payload = structuredClone(sample);
        RETARGET[source](payload, user, `B${counter}`);
        const { body, headers } = await demoRequest(
          demo,
          JSON.stringify(payload),
          runtime.secrets,
          start + i,
        );
        out.push({ path: `/webhooks/${demo.id}`, headers, body });
      }
      return out;
    },
  };
};
