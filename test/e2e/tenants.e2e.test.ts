import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorCall, startEmulator } from '../../emulator/server.ts';
import { createHandler as createQueueHandler } from '../../lib/queue/handler.ts';
import { createRuntime, type Runtime } from '../../lib/runtime/index.ts';
import { queueDeps } from '../../lib/runtime/queue.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';
import { createCachedSecretSource, secretValueOf } from '../../lib/secrets/cached-source.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import { signHmacDelivery } from '../../lib/sources/hmac/sender.ts';
import { createHandler as createWebhookHandler } from '../../lib/webhook/handler.ts';
import { createLocalFifoQueue, type LocalFifoQueue } from '../../local/fifo-queue.ts';
import type { HttpApiHandler } from '../../local/http-api.ts';
import { type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { webhookRoute } from '../../local/pipeline.ts';
import { fakeContext } from '../helpers/context.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

// Two CIAM tenants as config/local.json and the emulator's seed have them: the default tenant
// (AKIDlocaldemo, local-store) and `acme` (AKIDacmedemo, acme-store), each with a sync and a
// queued HMAC connection. Everything goes over real HTTP: deliveries to the local API Gateway,
// CIAM calls to the emulator, which logs the SecretId and user store of each.

const DEFAULT_KEY = 'AKIDlocaldemo';
const ACME_KEY = 'AKIDacmedemo';
const ACME_CREDENTIALS = 'ciam-webhook-adapter/acme-ciam-credentials';
const DEFAULT_CREDENTIALS = 'ciam-webhook-adapter/ciam-credentials';

const SECRETS: Record<string, string> = {
  hmac: 'demo-hmac-secret',
  'hmac-queued': 'demo-hmac-secret',
  'acme-hmac': 'demo-acme-hmac-secret',
  'acme-queued': 'demo-acme-hmac-secret',
};

interface ConnectionConfig {
  id: string;
  delivery?: string;
}

/** config/local.json plus a queued twin of `hmac` (default tenant) and of `acme-hmac` (acme). */
const twoTenantConfig = () => {
  const config = readJson('config/local.json') as { connections: ConnectionConfig[] };
  const twin = (id: string, as: string) => {
    const connection = config.connections.find((c) => c.id === id);
    if (connection === undefined) throw new Error(`config/local.json has no ${id}`);
    return { ...connection, id: as, delivery: 'queued' };
  };
  return {
    ...config,
    connections: [
      ...config.connections,
      twin('hmac', 'hmac-queued'),
      twin('acme-hmac', 'acme-queued'),
    ],
  };
};

/**
 * The demo secrets file as Secrets Manager: cached like every secret source, counting the fetches
 * of each secret name; `stale` serves a value once in place of the file's (a revoked key).
 */
const countingSecrets = (path: string) => {
  const reads = new Map<string, number>();
  const stale = new Map<string, Record<string, unknown>>();
  const source: SecretSource = createCachedSecretSource(
    async (name) => {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      const old = stale.get(name);
      stale.delete(name);
      const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      return secretValueOf(name, old ?? all[name]);
    },
    { now: () => 0, ttlMs: Number.POSITIVE_INFINITY },
  );
  return { source, reads, stale };
};

interface TwoTenants {
  emulator: Emulator;
  server: LocalServer;
  queue: LocalFifoQueue;
  consumer: ReturnType<typeof createQueueHandler>;
  webhookRuntime: Runtime;
  consumerRuntime: Runtime;
  reads: Map<string, number>;
  stale: Map<string, Record<string, unknown>>;
  /** Releases every call the emulator holds in an injected `latency` fault. */
  release(): void;
  close(): Promise<void>;
}

/**
 * The webhook function behind the local API Gateway, producing into a local FIFO queue, and the
 * queue function's handler, called by the test with the batches it receives from that queue (so
 * one batch holds both tenants' changes). The emulator holds a `latency` fault until `release()`.
 */
const startTwoTenants = async (
  onApplied?: (action: string, params: Readonly<Record<string, unknown>>) => void,
): Promise<TwoTenants> => {
  let gate: () => void = () => {};
  let held = new Promise<void>((resolve) => {
    gate = resolve;
  });
  const emulator = await startEmulator({
    port: 0,
    // No CIAM-side refusals: the adapter's own per-tenant limiter is what is tested here.
    rateLimit: 0,
    sleep: () => held,
    ...(onApplied === undefined ? {} : { onApplied }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'ciam-tenants-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(twoTenantConfig()));
  const { source, reads, stale } = countingSecrets('config/local-secrets.json');
  const deadLetterQueue = createLocalFifoQueue({
    name: 'tenants-dlq.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: 360,
  });
  const queue = createLocalFifoQueue({
    name: 'tenants.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: 360,
    maxReceiveCount: 5,
    deadLetterQueue,
  });
  const env = {
    ADAPTER_CONFIG: configPath,
    CIAM_ENDPOINT: emulator.url,
    CIAM_RATE_LIMIT_PER_SECOND: '1000',
  };
  const quiet = {
    secrets: source,
    queue,
    deadLetterQueue,
    logger: new Logger({ logLevel: 'SILENT' }),
    recordOutcome: () => {},
  };
  const webhookRuntime = createRuntime(env, quiet);
  const consumerRuntime = createRuntime(env, quiet);
  const server = await startLocalServer({
    routes: [
      webhookRoute(createWebhookHandler(webhookDeps(webhookRuntime)) as unknown as HttpApiHandler),
    ],
  });
  return {
    emulator,
    server,
    queue,
    consumer: createQueueHandler(queueDeps(consumerRuntime)),
    webhookRuntime,
    consumerRuntime,
    reads,
    stale,
    release: () => {
      gate();
      held = new Promise<void>((resolve) => {
        gate = resolve;
      });
    },
    close: async () => {
      gate();
      await server.close();
      await emulator.close();
    },
  };
};

let sequence = 0;

/** One signed HMAC delivery: the user `externalId` gets the nickname `name`. */
const deliver = async (
  stack: TwoTenants,
  connectionId: string,
  externalId: string,
  name: string,
) => {
  sequence += 1;
  const body = JSON.stringify({ id: externalId, name });
  const secret = SECRETS[connectionId] ?? '';
  const response = await fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-event-id': `evt_tenants_${sequence}`,
      ...signHmacDelivery({ body, secret, nowMs: Date.now() }),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Every message in the queue, as one SQS batch for the queue function. */
const batchOf = (queue: LocalFifoQueue) =>
  queue.toSqsEvent(queue.receive({ max: 10 }), {
    queueArn: 'arn:aws:sqs:ap-southeast-1:123456789012:tenants.fifo',
    region: 'ap-southeast-1',
  });

/** What the event source mapping does with the queue function's answer: deletes what succeeded. */
const consume = async (
  stack: TwoTenants,
  batch: SQSEvent,
  consumed: Promise<unknown> = stack.consumer(batch, fakeContext({ remainingMs: 60_000 })),
): Promise<string[]> => {
  const { batchItemFailures } = (await consumed) as SQSBatchResponse;
  const failed = batchItemFailures.map((failure) => failure.itemIdentifier);
  for (const record of batch.Records) {
    if (!failed.includes(record.messageId)) stack.queue.delete(record.receiptHandle);
  }
  return failed;
};

const callsOver = async (emulator: Emulator): Promise<EmulatorCall[]> =>
  ((await (await fetch(`${emulator.url}/__emulator/calls`)).json()) as { calls: EmulatorCall[] })
    .calls;

const keysOf = (calls: readonly EmulatorCall[]) => [...new Set(calls.map((c) => c.secretId))];

describe('two CIAM tenants', () => {
  let stack: TwoTenants;

  beforeAll(async () => {
    stack = await startTwoTenants();
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(async () => {
    await stack.emulator.idle();
    stack.emulator.reset();
  });

  it("reads no tenant's CIAM credentials at cold start", () => {
    // Both functions were composed in beforeAll; only the calls below read their tenant's secret.
    const fresh = countingSecrets('config/local-secrets.json');
    const runtime = createRuntime(
      { ADAPTER_CONFIG: 'config/local.json', CIAM_ENDPOINT: stack.emulator.url },
      {
        secrets: fresh.source,
        queue: createLocalFifoQueue({
          name: 'cold.fifo',
          now: Date.now,
          visibilityTimeoutSeconds: 360,
        }),
        logger: new Logger({ logLevel: 'SILENT' }),
      },
    );
    webhookDeps(runtime);
    expect(Object.fromEntries(fresh.reads)).toEqual({});
  });

  it("writes tenant A's connections with A's key only, and B's with B's (sync and queued)", async () => {
    expect(await deliver(stack, 'acme-hmac', 'ext-dana', 'Dana Sync')).toMatchObject({
      status: 200,
      body: { status: 'applied', userId: 'acme-user-1' },
    });
    expect((await deliver(stack, 'acme-queued', 'ext-erik', 'Erik Queued')).status).toBe(202);
    expect(await consume(stack, batchOf(stack.queue))).toEqual([]);
    const acmeOnly = await callsOver(stack.emulator);
    expect(acmeOnly.length).toBeGreaterThanOrEqual(3);
    // Deliveries on acme's connections: 0 calls with the default tenant's key.
    expect(keysOf(acmeOnly)).toEqual([ACME_KEY]);
    expect(new Set(acmeOnly.map((c) => c.userStoreId))).toEqual(new Set(['acme-store']));
    expect(acmeOnly.filter((c) => c.code !== undefined)).toEqual([]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-2')?.Nickname).toBe('Erik Queued');

    stack.emulator.reset();
    expect((await deliver(stack, 'hmac', 'ext-carol', 'Carol Sync')).status).toBe(200);
    expect((await deliver(stack, 'hmac-queued', 'ext-bob', 'Bob Queued')).status).toBe(202);
    expect(await consume(stack, batchOf(stack.queue))).toEqual([]);
    const localOnly = await callsOver(stack.emulator);
    // And the reverse: 0 calls with acme's key.
    expect(keysOf(localOnly)).toEqual([DEFAULT_KEY]);
    expect(new Set(localOnly.map((c) => c.userStoreId))).toEqual(new Set(['local-store']));
    expect(stack.emulator.store.getUser('local-store', 'demo-user-2')?.Nickname).toBe('Bob Queued');
    // Each tenant's user was written in its own store only.
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-2')?.Nickname).toBeUndefined();
  });

  it("puts two tenants' users in different FIFO groups", async () => {
    await deliver(stack, 'acme-queued', 'ext-dana', 'Dana');
    await deliver(stack, 'hmac-queued', 'ext-alice', 'Alice');
    const groups = stack.queue.peek().map((message) => message.groupId);
    expect(groups).toEqual(['acme:acme-store:acme-user-1', 'local-store:demo-user-1']);
    expect(await consume(stack, batchOf(stack.queue))).toEqual([]);
  });
});

describe('two CIAM tenants: rotation', () => {
  let stack: TwoTenants;
  beforeAll(async () => {
    stack = await startTwoTenants();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("refetches only the tenant's own secret after its key was rotated", async () => {
    // Both tenants warm: each credential read once.
    expect((await deliver(stack, 'hmac', 'ext-alice', 'Alice 1')).status).toBe(200);
    expect((await deliver(stack, 'acme-hmac', 'ext-dana', 'Dana 1')).status).toBe(200);
    expect(stack.reads.get(DEFAULT_CREDENTIALS)).toBe(1);
    expect(stack.reads.get(ACME_CREDENTIALS)).toBe(1);

    // acme's key is rotated: the runtime still holds a key CIAM no longer knows.
    stack.stale.set(ACME_CREDENTIALS, { SecretId: 'AKIDacmeRevoked', SecretKey: 'gone' });
    stack.webhookRuntime.secrets.invalidate(ACME_CREDENTIALS);
    expect((await deliver(stack, 'acme-hmac', 'ext-dana', 'Dana 2')).status).toBe(200);
    expect((await deliver(stack, 'hmac', 'ext-alice', 'Alice 2')).status).toBe(200);

    const calls = await callsOver(stack.emulator);
    // The revoked key was refused once, then acme's secret was read again and the call went on.
    expect(calls.filter((c) => c.code?.startsWith('AuthFailure'))).toEqual([
      expect.objectContaining({
        secretId: 'AKIDacmeRevoked',
        code: 'AuthFailure.SecretIdNotFound',
      }),
    ]);
    expect(stack.reads.get(ACME_CREDENTIALS)).toBe(3);
    // The default tenant was untouched: its secret read once, its calls all with its own key.
    expect(stack.reads.get(DEFAULT_CREDENTIALS)).toBe(1);
    expect(keysOf(calls.filter((c) => c.userStoreId === 'local-store'))).toEqual([DEFAULT_KEY]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-1')?.Nickname).toBe('Dana 2');
    expect(stack.emulator.store.getUser('local-store', 'demo-user-1')?.Nickname).toBe('Alice 2');
  });
});

describe('two CIAM tenants: one failing or held does not slow the other', () => {
  let stack: TwoTenants;
  /** Resolves when the default tenant's store has applied this many UpdateUser calls. */
  let localUpdates: { count: number; waiting?: { n: number; resolve: () => void } };

  beforeEach(async () => {
    localUpdates = { count: 0 };
    stack = await startTwoTenants((action, params) => {
      if (action !== 'UpdateUser' || params.UserStoreId !== 'local-store') return;
      localUpdates.count += 1;
      const { waiting } = localUpdates;
      if (waiting !== undefined && localUpdates.count >= waiting.n) waiting.resolve();
    });
  });
  afterEach(async () => {
    await stack?.close();
  });

  const localApplied = (n: number) =>
    new Promise<void>((resolve) => {
      if (localUpdates.count >= n) resolve();
      else localUpdates.waiting = { n, resolve };
    });

  /** Tenant A (acme) first in the batch, then three users of tenant B (default). */
  const queueBoth = async () => {
    expect((await deliver(stack, 'acme-queued', 'ext-dana', 'Dana')).status).toBe(202);
    expect((await deliver(stack, 'acme-queued', 'ext-erik', 'Erik')).status).toBe(202);
    for (const [user, name] of [
      ['ext-alice', 'Alice B'],
      ['ext-bob', 'Bob B'],
      ['ext-carol', 'Carol B'],
    ] as const) {
      expect((await deliver(stack, 'hmac-queued', user, name)).status).toBe(202);
    }
    return batchOf(stack.queue);
  };

  it("applies B's changes while A's first write is still held", async () => {
    const batch = await queueBoth();
    expect(batch.Records).toHaveLength(5);
    // acme's first UpdateUser is held in the emulator until released.
    stack.emulator.faults.configure({
      script: ['latency'],
      actions: ['UpdateUser'],
      secretIds: [ACME_KEY],
    });
    const consumed = consume(stack, batch);
    // Were the tenants' groups consumed one after another, this would wait for A forever.
    await localApplied(3);
    const during = await callsOver(stack.emulator);
    const updates = during.filter((c) => c.action === 'UpdateUser');
    // B: all three users written, with B's key; A: nothing answered yet (its first write held).
    expect(updates.map((c) => [c.secretId, c.code])).toEqual([
      [DEFAULT_KEY, undefined],
      [DEFAULT_KEY, undefined],
      [DEFAULT_KEY, undefined],
    ]);
    stack.release();
    expect(await consumed).toEqual([]);
    expect(stack.emulator.store.getUser('acme-store', 'acme-user-2')?.Nickname).toBe('Erik');
  });

  it.each([
    ['failing with 503s', 'http503'],
    ['rate limited', 'RequestLimitExceeded'],
  ])("applies every change of B while A is %s, and retries A's", async (_label, fault) => {
    const batch = await queueBoth();
    const acmeIds = batch.Records.slice(0, 2).map((record) => record.messageId);
    stack.emulator.faults.configure({ rates: { [fault]: 1 }, secretIds: [ACME_KEY] });
    // The producer's lookups are done; what follows is the queue function's.
    const queuedAt = (await callsOver(stack.emulator)).length;
    // A's records come back (retried later, in order); B's are all acknowledged.
    expect(await consume(stack, batch)).toEqual(acmeIds);
    const calls = (await callsOver(stack.emulator)).slice(queuedAt);
    const local = calls.filter((c) => c.secretId === DEFAULT_KEY);
    // B: each user read and written once, all answered, in its own store.
    expect(local.every((c) => c.code === undefined && c.userStoreId === 'local-store')).toBe(true);
    expect(local.filter((c) => c.action === 'UpdateUser')).toHaveLength(3);
    const acme = calls.filter((c) => c.secretId === ACME_KEY);
    expect(acme.length).toBeGreaterThan(0);
    expect(acme.every((c) => c.code === fault && c.userStoreId === 'acme-store')).toBe(true);
    expect(stack.emulator.store.getUser('local-store', 'demo-user-3')?.Nickname).toBe('Carol B');
  });
});

describe('two CIAM tenants: the adapter paces each account on its own', () => {
  it("refuses tenant A's burst while tenant B's first call goes at once", async () => {
    const emulator = await startEmulator({ port: 0, rateLimit: 0 });
    try {
      const at = Date.now();
      const runtime = createRuntime(
        {
          ADAPTER_CONFIG: 'config/local.json',
          ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
          CIAM_ENDPOINT: emulator.url,
          CIAM_RATE_LIMIT_PER_SECOND: '1',
          CIAM_RATE_LIMIT_MAX_WAIT_MS: '0',
        },
        // A stopped clock: a bucket emptied stays empty.
        { now: () => at, logger: new Logger({ logLevel: 'SILENT' }) },
      );
      const acme = runtime.tenants.byId('acme').ciam;
      const local = runtime.tenants.byId('default').ciam;
      await acme.describeUserById({ UserStoreId: 'acme-store', UserId: 'acme-user-1' });
      await expect(
        acme.describeUserById({ UserStoreId: 'acme-store', UserId: 'acme-user-2' }),
      ).rejects.toMatchObject({ code: 'UPSTREAM_RATE_LIMITED' });
      await expect(
        local.describeUserById({ UserStoreId: 'local-store', UserId: 'demo-user-1' }),
      ).resolves.toMatchObject({ User: { UserId: 'demo-user-1' } });
      expect(runtime.tenants.of({ tenant: 'acme' })).toBe(runtime.tenants.byId('acme'));
      expect(runtime.tenants.of({})).toBe(runtime.tenants.byId('default'));
      expect(() => runtime.tenants.byId('nobody')).toThrow(/No tenant/);
    } finally {
      await emulator.close();
    }
  });
});

describe('two CIAM tenants: SCIM', () => {
  let stack: Stack;
  beforeAll(async () => {
    const config = readJson('config/local.json') as { connections: Array<{ id: string }> };
    const scim = config.connections.find((c) => c.id === 'scim');
    stack = await startStack({
      config: {
        ...config,
        connections: [
          ...config.connections,
          { ...scim, id: 'scim-acme', tenant: 'acme', userStoreId: 'acme-store' },
        ],
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("serves each SCIM connection from its own tenant's account", async () => {
    const get = (connection: string, user: string) =>
      fetch(`${stack.server.url}/scim/v2/${connection}/Users/${user}`, {
        headers: { authorization: 'Bearer demo-scim-token' },
      });
    const acme = await get('scim-acme', 'acme-user-1');
    expect(acme.status).toBe(200);
    expect(await acme.json()).toMatchObject({ id: 'acme-user-1', userName: 'dana' });
    expect(keysOf(await callsOver(stack.emulator))).toEqual([ACME_KEY]);
    stack.emulator.reset();
    expect((await get('scim', 'demo-user-1')).status).toBe(200);
    // acme's user is not in the default tenant's store.
    expect((await get('scim', 'acme-user-1')).status).toBe(404);
    expect(keysOf(await callsOver(stack.emulator))).toEqual([DEFAULT_KEY]);
  });
});
