// `npm run bench:queue`: how close queued delivery runs to CIAM's 20 requests/second without being
// refused. The emulator enforces 20/s per action; 1,500 changes (150 users × 10) go in through the
// webhook function, and the UpdateUser rate is measured over a 60 s window once they flow. The
// baseline is CIAM's own limit, so the ratio says how much of it the adapter uses.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Webhook } from 'standardwebhooks';
import { loadSeed, startEmulator } from '../emulator/server.ts';
import { startLocalServer } from '../local/http-api.ts';
import { startLocalPipeline } from '../local/pipeline.ts';

const CIAM_LIMIT = 20;
const USERS = 150;
const CHANGES_PER_USER = 10;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const seed = loadSeed('emulator/seed.json');
const store = seed.userStores[0];
if (store === undefined) throw new Error('the seed has no user store');
store.Users = Array.from({ length: USERS }, (_, i) => ({
  UserId: `bench-user-${i}`,
  UserName: `bench${i}`,
  Email: `bench${i}@example.org`,
  PhoneNumber: `+658200${String(i).padStart(4, '0')}`,
  IndexedAttribute1: `ext-bench-${i}`,
  Status: 'NORMAL',
  CreatedDate: 1704067200000,
  LastModifiedDate: 1704067200000,
}));
const emulator = await startEmulator({ port: 0, seed, rateLimit: CIAM_LIMIT });

const local = JSON.parse(readFileSync('config/local.json', 'utf8'));
const clerk = local.connections.find((c: { id: string }) => c.id === 'clerk');
const dir = mkdtempSync(join(tmpdir(), 'bench-queue-'));
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({ ...local, connections: [{ ...clerk, id: 'clerk-queued', delivery: 'queued' }] }),
);
const pipeline = startLocalPipeline({
  env: {
    ADAPTER_CONFIG: join(dir, 'config.json'),
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator.url,
  },
  overrides: {
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
    recordOutcome: () => {},
  },
});
const server = await startLocalServer({ routes: [pipeline.webhookRoute] });

const webhook = new Webhook(SECRET);
const bodies: { id: string; body: string }[] = [];
for (let k = 0; k < CHANGES_PER_USER; k += 1) {
  for (let user = 0; user < USERS; user += 1) {
    const data = {
      id: `ext-bench-${user}`,
      object: 'user',
      first_name: `b${user}c${k}`,
      last_name: '',
      email_addresses: [],
      phone_numbers: [],
      created_at: 1_700_000_000_000,
      updated_at: 1_800_000_000_000 + k * 1000,
    };
    bodies.push({
      id: `msg_bench_${user}_${k}`,
      body: JSON.stringify({
        type: 'user.updated',
        object: 'event',
        timestamp: data.updated_at,
        data,
      }),
    });
  }
}
let next = 0;
const statuses = new Map<number, number>();
await Promise.all(
  Array.from({ length: 20 }, async () => {
    while (next < bodies.length) {
      const item = bodies[next];
      next += 1;
      if (item === undefined) continue;
      const at = new Date();
      const res = await fetch(`${server.url}/webhooks/clerk-queued`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'svix-id': item.id,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': webhook.sign(item.id, at, item.body),
        },
        body: item.body,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  }),
);

const updates = () =>
  emulator.calls.filter((c) => c.action === 'UpdateUser' && c.code === undefined);
// Measure from the first write, once the pipeline flows, for the window.
while (updates().length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
const start = updates()[0]?.at ?? Date.now();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + WINDOW_MS - Date.now())));
const inWindow = updates().filter((c) => c.at >= start && c.at < start + WINDOW_MS).length;
const limited = emulator.calls.filter((c) => c.code?.startsWith('RequestLimitExceeded')).length;
await pipeline.poller.drain();
const rate = inWindow / (WINDOW_MS / 1000);
console.log(
  `accepted=${statuses.get(202) ?? 0}/${bodies.length} updates_in_window=${inWindow} window_s=${WINDOW_MS / 1000} dead_letters=${pipeline.deadLetterQueue.stats().total} ciam_calls=${emulator.calls.length}`,
);
console.log(
  `BENCH_QUEUE update_rate=${rate.toFixed(2)}/s ciam_limit=${CIAM_LIMIT}/s ratio=${(rate / CIAM_LIMIT).toFixed(3)} rate_limited=${limited}`,
);
await pipeline.stop();
await server.close();
await emulator.close();
