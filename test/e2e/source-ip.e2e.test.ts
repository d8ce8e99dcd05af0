// Per-connection source IP allow-lists over real sockets: the local API Gateway listens on both
// stacks and reports each request's TCP peer as `requestContext.http.sourceIp`, as API Gateway
// does; clients connect from chosen loopback addresses (all of 127.0.0.0/8 is loopback on Linux,
// and ::1). A refused request must be answered 403 before any secret is read or CIAM is called.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SCIM_TOKEN = 'demo-scim-token';

let stack: Stack;
const outcomes: Array<{ connectionId: string; outcome: string; count: number }> = [];
const secretReads: string[] = [];

/** The demo secrets file, with every read of any secret (cached or not) written down. */
const countingSecrets = (): SecretSource => {
  const file = createFileSecretSource({ path: 'config/local-secrets.json' });
  return {
    getString: (ref) => {
      secretReads.push(ref.name);
      return file.getString(ref);
    },
    getJson: (name) => {
      secretReads.push(name);
      return file.getJson(name);
    },
    invalidate: (name) => file.invalidate(name),
  };
};

beforeAll(async () => {
  const local = readJson('config/local.json') as { connections: Array<Record<string, unknown>> };
  const clerk = local.connections.find((c) => c.id === 'clerk');
  const scim = local.connections.find((c) => c.id === 'scim');
  stack = await startStack({
    host: '::',
    config: {
      ...local,
      connections: [
        ...local.connections,
        // 127.0.0.4–127.0.0.7 and ::1: .3 and .8 sit just outside the block.
        { ...clerk, id: 'clerk-edge', allowedSourceIps: ['127.0.0.4/30', '::1/128'] },
        { ...clerk, id: 'clerk-v6', allowedSourceIps: ['::1'] },
        { ...scim, id: 'scim-allow', allowedSourceIps: ['127.0.0.1/32'] },
      ],
    },
    overrides: {
      secrets: countingSecrets(),
      recordOutcome: (connectionId, outcome, count) =>
        outcomes.push({ connectionId, outcome, count }),
    },
  });
});
afterAll(async () => stack?.close());
beforeEach(() => {
  stack.emulator.reset();
  outcomes.length = 0;
  secretReads.length = 0;
});

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** One request from `from` (a loopback address) to the stack, over its own connection. */
const send = (
  from: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(
      {
        host: from.includes(':') ? '::1' : '127.0.0.1',
        port: stack.server.port,
        localAddress: from,
        method,
        path,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const clerkBody = () =>
  JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: Date.now(),
    data: {
      id: 'ext-alice',
      object: 'user',
      username: 'alice',
      first_name: 'Alice',
      last_name: `Liddell-${randomUUID().slice(0, 8)}`,
      email_addresses: [],
      phone_numbers: [],
      created_at: 1_700_000_000_000,
      updated_at: Date.now(),
    },
  });

/** A correctly signed Clerk delivery: only the address can stop it. */
const postClerk = (from: string, connectionId: string, extra: Record<string, string> = {}) => {
  const body = clerkBody();
  const id = `msg_${randomUUID()}`;
  const at = new Date();
  return send(
    from,
    'POST',
    `/webhooks/${connectionId}`,
    {
      'content-type': 'application/json',
      'svix-id': id,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': new Webhook(CLERK_SECRET).sign(id, at, body),
      ...extra,
    },
    body,
  );
};

const ciamCalls = () => stack.emulator.calls.length;
const refusals = (connectionId: string) =>
  outcomes.filter((o) => o.connectionId === connectionId && o.outcome === 'SOURCE_IP_NOT_ALLOWED');

describe('webhook source IP allow-list (real sockets through the local API Gateway)', () => {
  it('applies a signed delivery from the first and the last address of the block', async () => {
    for (const from of ['127.0.0.4', '127.0.0.7']) {
      const reply = await postClerk(from, 'clerk-edge');
      expect([from, reply.status, reply.body.status]).toEqual([from, 200, 'applied']);
    }
    expect(stack.emulator.calls.filter((c) => c.action === 'UpdateUser')).toHaveLength(2);
    expect(refusals('clerk-edge')).toEqual([]);
  });

  it('refuses the addresses just outside the block: 403, no secret read, no CIAM call, counted', async () => {
    for (const from of ['127.0.0.3', '127.0.0.8']) {
      const reply = await postClerk(from, 'clerk-edge');
      expect([from, reply.status, reply.body.code]).toEqual([from, 403, 'SOURCE_IP_NOT_ALLOWED']);
    }
    expect(secretReads).toEqual([]);
    expect(ciamCalls()).toBe(0);
    expect(refusals('clerk-edge')).toEqual([
      { connectionId: 'clerk-edge', outcome: 'SOURCE_IP_NOT_ALLOWED', count: 1 },
      { connectionId: 'clerk-edge', outcome: 'SOURCE_IP_NOT_ALLOWED', count: 1 },
    ]);
  });

  it('takes the TCP peer, not an x-forwarded-for header the caller writes', async () => {
    const reply = await postClerk('127.0.0.3', 'clerk-edge', { 'x-forwarded-for': '127.0.0.4' });
    expect([reply.status, reply.body.code]).toEqual([403, 'SOURCE_IP_NOT_ALLOWED']);
    expect(secretReads).toEqual([]);
  });

  it('matches IPv6 peers against IPv6 blocks, and IPv4 peers never against them', async () => {
    const fromV6 = await postClerk('::1', 'clerk-v6');
    expect([fromV6.status, fromV6.body.status]).toEqual([200, 'applied']);
    const edgeFromV6 = await postClerk('::1', 'clerk-edge');
    expect([edgeFromV6.status, edgeFromV6.body.status]).toEqual([200, 'applied']);
    secretReads.length = 0;
    const calls = ciamCalls();
    const fromV4 = await postClerk('127.0.0.1', 'clerk-v6');
    expect([fromV4.status, fromV4.body.code]).toEqual([403, 'SOURCE_IP_NOT_ALLOWED']);
    expect(secretReads).toEqual([]);
    expect(ciamCalls()).toBe(calls);
    expect(refusals('clerk-v6')).toHaveLength(1);
  });

  it('lets any address call a connection without a list', async () => {
    const reply = await postClerk('127.0.0.9', 'clerk');
    expect([reply.status, reply.body.status]).toEqual([200, 'applied']);
  });

  it('refuses before the method check, so a GET from elsewhere learns nothing more', async () => {
    const reply = await send('127.0.0.8', 'GET', '/webhooks/clerk-edge');
    expect([reply.status, reply.body.code]).toEqual([403, 'SOURCE_IP_NOT_ALLOWED']);
  });
});

describe('SCIM source IP allow-list and token guessing', () => {
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it('serves the allowed address and refuses others with a SCIM error: no secret read, no CIAM call', async () => {
    const allowed = await send('127.0.0.1', 'GET', '/scim/v2/scim-allow/Users', auth(SCIM_TOKEN));
    expect(allowed.status).toBe(200);
    stack.emulator.reset();
    secretReads.length = 0;
    for (const from of ['127.0.0.2', '::1']) {
      const refused = await send(from, 'GET', '/scim/v2/scim-allow/Users', auth(SCIM_TOKEN));
      expect([from, refused.status]).toEqual([from, 403]);
      expect(refused.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '403',
        code: 'SOURCE_IP_NOT_ALLOWED',
      });
    }
    expect(secretReads).toEqual([]);
    expect(ciamCalls()).toBe(0);
    expect(refusals('scim-allow')).toHaveLength(2);
  });

  it('counts every wrong bearer token per connection and answers each one alike', async () => {
    const guesses = ['x', 'demo-scim-toke', 'demo-scim-tokenn', 'a'.repeat(512)];
    const replies = [];
    for (const guess of guesses) {
      replies.push(await send('127.0.0.1', 'GET', '/scim/v2/scim-allow/Users', auth(guess)));
    }
    // The same status and body whatever the guess: its length or closeness says nothing.
    expect(new Set(replies.map((reply) => JSON.stringify(reply)))).toEqual(
      new Set([JSON.stringify(replies[0])]),
    );
    expect(replies[0]).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } });
    expect(outcomes).toEqual(
      guesses.map(() => ({ connectionId: 'scim-allow', outcome: 'SIGNATURE_INVALID', count: 1 })),
    );
    expect(ciamCalls()).toBe(0);
  });
});
