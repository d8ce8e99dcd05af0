import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface ConnectionConfig {
  id: string;
  resolve: Record<string, unknown>;
}

/**
 * config/local.json plus a second queued Clerk connection on the same user store that finds users
 * by email where `clerk-queued` finds them by IndexedAttribute1: two lookup keys, one CIAM user.
 */
const twoQueuedConnections = () => {
  const config = readJson('config/local.json') as { connections: ConnectionConfig[] };
  const queued = config.connections.find((c) => c.id === 'clerk-queued');
  if (queued === undefined) throw new Error('config/local.json has no clerk-queued');
  return {
    ...config,
    connections: [
      ...config.connections,
      { ...queued, id: 'clerk-queued-email', resolve: { by: 'email' } },
    ],
  };
};

/** A Clerk user.updated for Alice (ext-alice, alice@example.com: demo-user-1 in the seed). */
const aliceUpdated = (lastName: string, updatedAt: number) =>
  JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: updatedAt,
    data: {
      id: 'ext-alice',
      object: 'user',
      first_name: 'Alice',
      last_name: lastName,
      primary_email_address_id: 'idn_alice',
      email_addresses: [{ id: 'idn_alice', email_address: 'alice@example.com' }],
      created_at: 1_700_000_000_000,
      updated_at: updatedAt,
    },
  });

const post = (stack: Stack, connectionId: string, body: string) => {
  const id = `msg_${randomUUID()}`;
  const at = new Date();
  return fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': new Webhook(CLERK_SECRET).sign(id, at, body),
    },
    body,
  });
};

describe('two queued connections on one user store (HTTP → producer → FIFO queue → consumer → CIAM)', () => {
  let stack: Stack;
  /** Each message as the local queue stored it: its group, and the connection it came from. */
  const stored: Array<{ connectionId: string | undefined; groupId: string }> = [];
  const outcomes: string[] = [];

  beforeAll(async () => {
    stack = await startStack({
      config: twoQueuedConnections(),
      queue: {
        producer: (queue) => ({
          send: async (message, options) => {
            const sent = await queue.send(message, options);
            const kept = queue.peek().find((m) => m.messageId === sent.messageId);
            if (kept === undefined) throw new Error('the queue does not hold what it accepted');
            stored.push({ connectionId: kept.attributes.connectionId, groupId: kept.groupId });
            return sent;
          },
          changeVisibility: (handle, seconds) => queue.changeVisibility(handle, seconds),
        }),
        deps: { recordOutcome: (_connectionId, outcome) => outcomes.push(outcome) },
      },
    });
  });
  afterAll(async () => stack?.close());

  it("puts both connections' changes for one CIAM user in one FIFO group, applied one at a time", async () => {
    const t = Date.now();
    const connections = ['clerk-queued', 'clerk-queued-email'];
    // Alternating connections, each change newer than the one before.
    for (let k = 0; k < 6; k += 1) {
      const res = await post(stack, connections[k % 2] ?? '', aliceUpdated(`Change ${k}`, t + k));
      expect(res.status).toBe(202);
    }

    await stack.queue.poller.drain();

    expect(stored).toEqual(
      Array.from({ length: 6 }, (_, k) => ({
        connectionId: connections[k % 2],
        groupId: 'local-store:demo-user-1',
      })),
    );
    // Two lookup keys, each looked up once by the webhook function (then cached); none by the
    // consumer, which applies to the user each envelope names.
    expect(
      stack.emulator.calls
        .filter((c) => c.action === 'DescribeUser' || c.action === 'ListUserByProperty')
        .map((c) => c.action),
    ).toEqual(['DescribeUser', 'ListUserByProperty']);
    expect(outcomes).toEqual(Array(6).fill('applied'));
    // One group is one change at a time: every read of the user is followed by its own write
    // before the next change reads it, though two consumers poll the queue.
    const perUser = stack.emulator.calls
      .filter((c) => c.action === 'DescribeUserById' || c.action === 'UpdateUser')
      .map((c) => c.action);
    expect(perUser).toEqual(Array(6).fill(['DescribeUserById', 'UpdateUser']).flat());
    expect(stack.emulator.store.getUser('local-store', 'demo-user-1')?.Nickname).toBe(
      'Alice Change 5',
    );
    expect(stack.queue.deadLetterQueue.stats().total).toBe(0);
    expect(stack.queue.pollerErrors).toEqual([]);
  });
});
