// `npm run soak`: 1,000 changes for 100 users, sent concurrently, partly out of order and partly
// twice, through the webhook function → embedded SQS FIFO queue → queue function → CIAM emulator,
// with 30 % transient and 2 % permanent faults injected into CIAM. It checks that nothing
// acknowledged is lost, that no user ends on (or ever passes through) an older change than one
// already written, and that every dead letter carries its reason; the last line sums it up.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Webhook } from 'standardwebhooks';
import { loadSeed, startEmulator } from '../emulator/server.ts';
import { startLocalServer } from '../local/http-api.ts';
import { LOCAL_QUEUE_DEFAULTS, startLocalPipeline } from '../local/pipeline.ts';

const USERS = 100;
const CHANGES_PER_USER = 10;
const DUPLICATE_SHARE = 0.1;
const CONCURRENCY = 25;
/** The queues' clock runs this much faster, so 30 s backoffs take 1.5 s; CIAM's clock is real. */
const QUEUE_SPEED = 20;
const CLIENT_TIMEOUT_MS = 1000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

// Seeded, so a failing run can be replayed.
let state = Number(process.env.SOAK_SEED ?? 7);
const random = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const seed = loadSeed('emulator/seed.json');
const store = seed.userStores[0];
if (store === undefined) throw new Error('the seed has no user store');
store.Users = Array.from({ length: USERS }, (_, i) => ({
  UserId: `soak-user-${i}`,
  UserName: `soak${i}`,
  Email: `soak${i}@example.org`,
  PhoneNumber: `+658100${String(i).padStart(4, '0')}`,
  IndexedAttribute1: `ext-soak-${i}`,
  Status: 'NORMAL',
  CreatedDate: 1704067200000,
  LastModifiedDate: 1704067200000,
}));

const transient = {
  InternalError: 0.08,
  RequestLimitExceeded: 0.06,
  http502: 0.06,
  latency: 0.05,
  drop: 0.05,
};
/**
 * Every UpdateUser CIAM carried out, in the order it did, late ones included (an attempt the client
 * gave up on can still land): the Nickname names the change.
 */
const writes: { user: string; nickname: string }[] = [];
const emulator = await startEmulator({
  port: 0,
  seed,
  onApplied: (action, params) => {
    if (action === 'UpdateUser' && typeof params.Nickname === 'string') {
      writes.push({ user: String(params.UserId), nickname: params.Nickname });
    }
  },
  rateLimit: 20,
  faults: {
    rates: { ...transient, InvalidParameterValue: 0.02 },
    actions: ['UpdateUser', 'DescribeUserById', 'DescribeUser'],
    // Longer than the client's timeout: the abandoned attempt lands after the client gave up.
    latencyMs: CLIENT_TIMEOUT_MS + 300,
    seed: Number(process.env.SOAK_SEED ?? 7),
  },
});

const local = JSON.parse(readFileSync('config/local.json', 'utf8'));
const clerk = local.connections.find((c: { id: string }) => c.id === 'clerk');
const config = {
  ...local,
  ciam: { ...local.ciam, timeoutMs: CLIENT_TIMEOUT_MS },
  connections: [{ ...clerk, id: 'clerk-queued', delivery: 'queued' }],
};
const dir = mkdtempSync(join(tmpdir(), 'soak-'));
writeFileSync(join(dir, 'config.json'), JSON.stringify(config));

const started = Date.now();
const pipeline = startLocalPipeline({
  env: {
    ADAPTER_CONFIG: join(dir, 'config.json'),
    ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
    CIAM_ENDPOINT: emulator.url,
  },
  overrides: {
    logger: new Logger({ serviceName: 'soak', logLevel: 'SILENT' }),
    recordOutcome: () => {},
  },
  queueNow: () => started + (Date.now() - started) * QUEUE_SPEED,
  // The fast queue clock must not shorten the visibility timeout below 6 × the consumer's real
  // timeout (AWS's rule, which keeps two consumers off one group): scale it back up.
  visibilityTimeoutSeconds: LOCAL_QUEUE_DEFAULTS.visibilityTimeoutSeconds * QUEUE_SPEED,
  onPollerError: () => {},
});
const server = await startLocalServer({ routes: [pipeline.webhookRoute] });

interface Change {
  user: number;
  k: number;
  id: string;
  body: string;
}
const changes: Change[] = [];
for (let user = 0; user < USERS; user += 1) {
  for (let k = 0; k < CHANGES_PER_USER; k += 1) {
    const data = {
      id: `ext-soak-${user}`,
      object: 'user',
      first_name: `u${user}c${k}`,
      last_name: '',
      email_addresses: [],
      phone_numbers: [],
      created_at: 1_700_000_000_000,
      updated_at: 1_800_000_000_000 + k * 1000,
    };
    const body = JSON.stringify({
      type: 'user.updated',
      object: 'event',
      timestamp: data.updated_at,
      data,
    });
    changes.push({ user, k, id: `msg_soak_${user}_${k}`, body });
  }
}
// Mostly in order, with inversions across a few places; then some deliveries again, later.
const sends = changes
  .map((change) => ({ change, key: change.k + random() * 4 }))
  .sort((a, b) => a.key - b.key)
  .map(({ change }) => change);
for (const change of changes) {
  if (random() < DUPLICATE_SHARE) sends.splice(Math.floor(random() * sends.length), 0, change);
}

const webhook = new Webhook(SECRET);
const answers = new Map<string, number[]>();
const post = async (change: Change) => {
  const at = new Date();
  const res = await fetch(`${server.url}/webhooks/clerk-queued`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'svix-id': change.id,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': webhook.sign(change.id, at, change.body),
    },
    body: change.body,
  });
  await res.arrayBuffer();
  answers.set(change.id, [...(answers.get(change.id) ?? []), res.status]);
};
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < sends.length) {
      const change = sends[next];
      next += 1;
      if (change !== undefined) await post(change);
    }
  }),
);
await pipeline.poller.drain();
// Abandoned attempts may still be landing in CIAM; wait out the longest injected latency.
await new Promise((resolve) => setTimeout(resolve, CLIENT_TIMEOUT_MS + 500));

const deadLetters = pipeline.deadLetterQueue.peek();
const deadEvents = new Set<string>();
let withoutReason = 0;
for (const letter of deadLetters) {
  const { errorCode, reason } = letter.attributes;
  if (!errorCode || !reason) withoutReason += 1;
  deadEvents.add((JSON.parse(letter.body) as { eventId: string }).eventId);
}

const accepted = changes.filter((c) => (answers.get(c.id) ?? []).includes(202));
const refused = changes.filter((c) => !(answers.get(c.id) ?? []).includes(202));
const nicknameOf = (c: Change) => `u${c.user}c${c.k}`;
// Walk CIAM's writes in the order it made them. Writing a change older than one the user already
// holds is a fault: `out_of_order` when it is a change not written before, `duplicates_applied_late`
// when it is a repeat (a redelivery or an abandoned attempt landing late). Repeating the newest
// change is harmless and not counted.
const written = new Map<string, number>();
let outOfOrder = 0;
let duplicatesAppliedLate = 0;
const newestWritten = new Map<number, number>();
for (const write of writes) {
  const match = /^u(\d+)c(\d+)$/.exec(write.nickname);
  if (match === null) continue;
  const user = Number(match[1]);
  const k = Number(match[2]);
  const before = written.get(write.nickname) ?? 0;
  written.set(write.nickname, before + 1);
  if (k < (newestWritten.get(user) ?? -1)) {
    if (before > 0) duplicatesAppliedLate += 1;
    else outOfOrder += 1;
  }
  newestWritten.set(user, Math.max(k, newestWritten.get(user) ?? -1));
}
let lost = 0;
for (const change of accepted) {
  const superseded = (newestWritten.get(change.user) ?? -1) > change.k;
  if (!written.has(nicknameOf(change)) && !deadEvents.has(change.id) && !superseded) lost += 1;
}
let wrongFinal = 0;
for (let user = 0; user < USERS; user += 1) {
  const newest = accepted
    .filter((c) => c.user === user && !deadEvents.has(c.id))
    .reduce<Change | undefined>((a, c) => (a === undefined || c.k > a.k ? c : a), undefined);
  const final = emulator.store.getUser('local-store', `soak-user-${user}`)?.Nickname;
  if (newest !== undefined && final !== nicknameOf(newest)) {
    wrongFinal += 1;
    if (process.env.SOAK_DEBUG) {
      console.log(
        JSON.stringify({
          user,
          final,
          expected: nicknameOf(newest),
          writes: writes.filter((w) => w.user === `soak-user-${user}`).map((w) => w.nickname),
          dead: [...deadEvents].filter((id) => id.startsWith(`msg_soak_${user}_`)),
        }),
      );
    }
  }
}
if (process.env.SOAK_DEBUG) {
  const codes = new Map<string, number>();
  for (const letter of deadLetters) {
    const key = `${letter.attributes.errorCode}/${letter.attributes.upstreamCode ?? '-'}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  console.log('dead letters by code', Object.fromEntries(codes));
}
outOfOrder += wrongFinal;

const faults = emulator.calls.filter((c) => c.fault !== undefined).length;
console.log(
  `sent=${sends.length} accepted=${accepted.length} refused=${refused.length} ciam_calls=${emulator.calls.length} faults_injected=${faults} dead_letters_without_reason=${withoutReason} users_on_wrong_final_state=${wrongFinal} seconds=${((Date.now() - started) / 1000).toFixed(1)}`,
);
const applied = [...written.keys()].length;
console.log(
  `SOAK applied=${applied} dlq=${deadLetters.length} lost=${lost} out_of_order=${outOfOrder} duplicates_applied_late=${duplicatesAppliedLate}`,
);
await pipeline.stop();
await server.close();
await emulator.close();
const ok =
  lost === 0 && outOfOrder === 0 && withoutReason === 0 && refused.length === 0 && wrongFinal === 0;
process.exit(ok ? 0 : 1);
