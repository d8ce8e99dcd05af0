import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lib/queue/envelope.ts';
import { createHandler as createQueueHandler } from '../../lib/queue/handler.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { queueDeps } from '../../lib/runtime/queue.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';
import { createHandler as createWebhookHandler } from '../../lib/webhook/handler.ts';
import { createLocalFifoQueue } from '../../local/fifo-queue.ts';
import { buildSampleEvents, parseAt, writeSampleEvents } from '../../local/sample-events.ts';
import { fakeContext } from '../helpers/context.ts';
import { EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';
import { readEvent } from '../helpers/events.ts';

const emulator = useEmulator({ rateLimit: 0 }, { resetBeforeEach: true });

const runtime = () => {
  const queue = createLocalFifoQueue({
    name: 'changes.fifo',
    now: Date.now,
    visibilityTimeoutSeconds: 360,
  });
  return createRuntime(
    {
      ADAPTER_CONFIG: 'config/local.json',
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: emulator().url,
    },
    {
      queue,
      deadLetterQueue: queue,
      logger: new Logger({ logLevel: 'SILENT' }),
      recordOutcome: () => {},
    },
  );
};

type Reply = { statusCode: number; body: string };

describe('buildSampleEvents', () => {
  it('signs every webhook sample so the local connections answer as its name says', async () => {
    const files = await buildSampleEvents({ at: Date.now() });
    const webhook = createWebhookHandler(webhookDeps(runtime()));
    const answer = async (name: string) =>
      (await webhook(files[name] as APIGatewayProxyEventV2, fakeContext())) as Reply;
    // Okta has no local connection (it calls Okta's Users API back): its samples are for tests.
    for (const source of ['clerk', 'workos', 'auth0', 'hmac']) {
      const applied = await answer(`${source}.user-updated.json`);
      expect(applied.statusCode, source).toBe(200);
      expect(JSON.parse(applied.body), source).toMatchObject({ status: 'applied' });
      const refused = await answer(`${source}.bad-signature.json`);
      expect([refused.statusCode, JSON.parse(refused.body).code], source).toEqual([
        401,
        'SIGNATURE_INVALID',
      ]);
    }
    // The second demo tenant's connection, on its own account's store.
    const acme = await answer('acme-hmac.user-updated.json');
    expect(acme.statusCode).toBe(200);
    expect(JSON.parse(acme.body)).toMatchObject({ status: 'applied', userId: 'acme-user-1' });
    for (const source of ['clerk', 'workos', 'auth0', 'okta', 'hmac']) {
      const missing = await answer(`${source}.unknown-connection.json`);
      expect([missing.statusCode, JSON.parse(missing.body).code], source).toEqual([
        404,
        'CONNECTION_NOT_FOUND',
      ]);
    }
  });

  it('keeps the committed bodies and ids and stamps the delivery time', async () => {
    const at = Date.parse('2026-03-04T05:06:07Z');
    const files = await buildSampleEvents({ at });
    const clerk = files['clerk.user-updated.json'] as APIGatewayProxyEventV2;
    const committed = readEvent('clerk.user-updated');
    expect(clerk.body).toBe(committed.body);
    expect(clerk.headers['svix-id']).toBe(committed.headers['svix-id']);
    expect(clerk.headers['svix-timestamp']).toBe(String(at / 1000));
    expect(clerk.requestContext.timeEpoch).toBe(at);
    expect(clerk.requestContext.time).toBe('04/Mar/2026:05:06:07 +0000');
  });

  it('builds a Lambda SQS FIFO batch of producer envelopes the queue function applies in order', async () => {
    const files = await buildSampleEvents({ at: Date.now() });
    const batch = files['queue.clerk-queued.json'] as SQSEvent;
    expect(batch.Records).toHaveLength(3);
    for (const record of batch.Records) {
      expect(record.eventSource).toBe('aws:sqs');
      expect(record.eventSourceARN).toMatch(/\.fifo$/);
      expect(parseEnvelope(record.body).connectionId).toBe('clerk-queued');
    }
    // Grouped by the CIAM user the producer looked up, which each envelope names.
    expect(
      batch.Records.map((r) => [r.attributes.MessageGroupId, parseEnvelope(r.body).userId]),
    ).toEqual([
      ['local-store:demo-user-1', 'demo-user-1'],
      ['local-store:demo-user-1', 'demo-user-1'],
      ['local-store:demo-user-2', 'demo-user-2'],
    ]);
    const consumer = createQueueHandler(queueDeps(runtime()));
    expect(await consumer(batch, fakeContext())).toEqual({ batchItemFailures: [] });
    const store = emulator().store;
    // The newer of Alice's two changes was applied last.
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')?.Nickname).toBe('Alice Queued-2');
    expect(store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-2')?.Nickname).toBe('Bob Queued');
  });
});

describe('writeSampleEvents', () => {
  it('writes every event as a JSON file', async () => {
    const out = await mkdtemp(join(tmpdir(), 'events-'));
    try {
      const names = await writeSampleEvents({ at: Date.now(), out });
      expect((await readdir(out)).sort()).toEqual([...names].sort());
      expect(names).toContain('queue.clerk-queued.json');
      expect(names).toContain('okta.verification.json');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('parseAt', () => {
  it('reads epoch milliseconds, ISO times and defaults to now', () => {
    expect(parseAt('1735689600000')).toBe(1735689600000);
    expect(parseAt('2025-01-01T00:00:00Z')).toBe(1735689600000);
    expect(parseAt(undefined, () => 42)).toBe(42);
    expect(() => parseAt('yesterday')).toThrow(RangeError);
  });
});
