import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readJson } from '../helpers/files.ts';
import { type QueueStack, type Stack, startStack } from '../helpers/stack.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** config/local.json: its `clerk-queued` is the clerk connection with queued delivery. */
const queuedConfig = () => readJson('config/local.json');

const clerkHeaders = (body: string, id = `msg_${randomUUID()}`, at = new Date()) => ({
  'svix-id': id,
  'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
  'svix-signature': new Webhook(CLERK_SECRET).sign(id, at, body),
});

const ALICE = { id: 'ext-alice', username: 'alice' };

const clerkUserUpdated = (firstName: string, updatedAt: number, user = ALICE) =>
  JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: updatedAt,
    data: {
      id: user.id,
      object: 'user',
      username: user.username,
      first_name: firstName,
      last_name: 'Liddell',
      created_at: 1_700_000_000_000,
      updated_at: updatedAt,
    },
  });

const postTo = (stack: Stack, body: string, headers: Record<string, string>) =>
  fetch(`${stack.server.url}/webhooks/clerk-queued`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

const queueOf = (stack: Stack): QueueStack => {
  if (stack.queue === undefined) throw new Error('the stack runs without queues');
  return stack.queue;
};

describe('queued delivery end to end (HTTP → producer → FIFO queue → poller → consumer → CIAM)', () => {
  let stack: Stack;
  const outcomes: Array<{ connectionId: string; outcome: string; count: number }> = [];

  beforeAll(async () => {
    stack = await startStack({
      config: queuedConfig(),
      queue: {
        deps: {
          recordOutcome: (connectionId, outcome, count) =>
            outcomes.push({ connectionId, outcome, count }),
        },
      },
    });
  });
  afterAll(async () => stack?.close());
  beforeEach(() => {
    stack.emulator.reset();
    outcomes.length = 0;
    queueOf(stack).pollerErrors.length = 0;
  });

  const post = (body: string, headers: Record<string, string>) => postTo(stack, body, headers);
  const updateUserCalls = () => stack.emulator.calls.filter((c) => c.action === 'UpdateUser');
  const alice = () => stack.emulator.store.getUser('local-store', 'demo-user-1');

  it('answers 202 queued and the consumer applies the change', async () => {
    const body = clerkUserUpdated('Queued', Date.now());
    const headers = clerkHeaders(body);

    const res = await post(body, headers);

    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      status: 'queued',
      eventId: headers['svix-id'],
      messageId: expect.stringMatching(/.+/),
    });
    await queueOf(stack).poller.drain();
    expect(alice()?.Nickname).toBe('Queued Liddell');
    expect(outcomes).toEqual([{ connectionId: 'clerk-queued', outcome: 'applied', count: 1 }]);
    expect(queueOf(stack).deadLetterQueue.stats().total).toBe(0);
    expect(queueOf(stack).pollerErrors).toEqual([]);
  });

  it('ends with the newest of three changes sent newest-first; the others are stale', async () => {
    const t = Date.now();
    for (const [name, at] of [
      ['Third', t],
      ['Second', t - 2000],
      ['First', t - 4000],
    ] as const) {
      const body = clerkUserUpdated(name, at);
      expect((await post(body, clerkHeaders(body))).status).toBe(202);
    }

    await queueOf(stack).poller.drain();

    expect(alice()?.Nickname).toBe('Third Liddell');
    expect(updateUserCalls()).toHaveLength(1);
    expect(outcomes.map((o) => o.outcome)).toEqual(['applied', 'stale', 'stale']);
  });

  it('applies a delivery sent five times exactly once (SQS deduplication, stale-event guard)', async () => {
    const body = clerkUserUpdated('Once', Date.now());
    const headers = clerkHeaders(body);
    const messageIds = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const res = await post(body, headers);
      expect(res.status).toBe(202);
      messageIds.add(((await res.json()) as { messageId: string }).messageId);
    }

    await queueOf(stack).poller.drain();

    expect(messageIds.size).toBe(1);
    expect(updateUserCalls()).toHaveLength(1);
    expect(alice()?.Nickname).toBe('Once Liddell');
  });

  it('answers 404 USER_NOT_FOUND at once when no CIAM user matches, and queues nothing', async () => {
    const body = clerkUserUpdated('Nobody', Date.now(), {
      id: 'ext-nobody',
      username: 'nobody',
    });

    const res = await post(body, clerkHeaders(body));

    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'USER_NOT_FOUND' });
    await queueOf(stack).poller.drain();
    expect(outcomes).toEqual([]);
    expect(queueOf(stack).deadLetterQueue.stats().total).toBe(0);
    expect(updateUserCalls()).toEqual([]);
  });

  it('answers 503 with Retry-After when CIAM cannot look the user up, and queues nothing', async () => {
    // Carol: a user no earlier test looked up, so the webhook function's cache cannot answer.
    stack.emulator.faults.configure({ rates: { InternalError: 1 }, actions: ['DescribeUser'] });
    const body = clerkUserUpdated('Carol', Date.now(), {
      id: 'ext-carol',
      username: 'carol',
    });

    const res = await post(body, clerkHeaders(body));

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await queueOf(stack).poller.drain();
    expect(outcomes).toEqual([]);
    expect(queueOf(stack).deadLetterQueue.stats().total).toBe(0);
    expect(updateUserCalls()).toEqual([]);

    // The sender's retry, once CIAM answers again, is queued and applied.
    stack.emulator.faults.clear();
    const retried = await post(body, clerkHeaders(body));
    expect(retried.status).toBe(202);
    await queueOf(stack).poller.drain();
    expect(stack.emulator.store.getUser('local-store', 'demo-user-3')?.Nickname).toBe(
      'Carol Liddell',
    );
  });
});

describe('queued delivery when the queue refuses', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      config: queuedConfig(),
      queue: {
        producer: (queue) => ({
          send: async () => {
            throw new Error('SQS is unavailable');
          },
          changeVisibility: (handle, seconds) => queue.changeVisibility(handle, seconds),
        }),
      },
    });
  });
  afterAll(async () => stack?.close());

  it('answers 503 QUEUE_UNAVAILABLE with Retry-After and applies nothing', async () => {
    const body = clerkUserUpdated('Lost', Date.now());

    const res = await postTo(stack, body, clerkHeaders(body));

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    expect(queueOf(stack).queue.stats().total).toBe(0);
    // The user was looked up (the FIFO group is named after it), and nothing else was done.
    expect(stack.emulator.calls.map((c) => c.action)).toEqual(['DescribeUser']);
  });
});
