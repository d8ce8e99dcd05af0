import { createHmac, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let stack: Stack;
const outcomes: Array<{ connectionId: string; outcome: string; count: number }> = [];

beforeAll(async () => {
  stack = await startStack({
    deps: {
      recordOutcome: (connectionId, outcome, count) =>
        outcomes.push({ connectionId, outcome, count }),
    },
  });
});
afterAll(async () => stack?.close());
beforeEach(() => {
  stack.emulator.reset();
  outcomes.length = 0;
});

const post = (connectionId: string, body: string, headers: Record<string, string>) =>
  fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

const clerkHeaders = (body: string, id = `msg_${randomUUID()}`, at = new Date()) => {
  const signature = new Webhook(CLERK_SECRET).sign(id, at, body);
  return {
    'svix-id': id,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': signature,
  };
};

const clerkUserUpdated = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'user.updated',
    object: 'event',
    timestamp: Date.now(),
    data: {
      id: 'ext-alice',
      object: 'user',
      username: 'alice',
      first_name: 'Alice',
      last_name: 'Liddell',
      primary_email_address_id: 'idn_1',
      email_addresses: [
        { id: 'idn_1', object: 'email_address', email_address: 'alice.new@example.com' },
      ],
      primary_phone_number_id: 'idn_2',
      phone_numbers: [{ id: 'idn_2', object: 'phone_number', phone_number: '+65 8123 4599' }],
      public_metadata: { tier: 'gold' },
      created_at: 1_700_000_000_000,
      updated_at: Date.now(),
      ...overrides,
    },
  });

const apiCalls = () => stack.emulator.calls.filter((c) => c.action === 'UpdateUser').length;

const describeUser = async (userId: string) =>
  (
    await stack.ciam.describeUserById({
      UserStoreId: 'local-store',
      UserId: userId,
      Original: true,
    })
  ).User;

describe('webhook end to end (local server → handler → CIAM emulator)', () => {
  it('applies a signed Clerk user.updated to the user found by IndexedAttribute1', async () => {
    const body = clerkUserUpdated();
    const res = await post('clerk', body, clerkHeaders(body));
    const json = await res.json();
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ status: 'applied', userId: 'demo-user-1' });
    expect(typeof json.requestId).toBe('string');
    const user = await describeUser('demo-user-1');
    expect(user).toMatchObject({
      Email: 'alice.new@example.com',
      PhoneNumber: '+6581234599',
      Nickname: 'Alice Liddell',
      UserName: 'alice',
    });
    // The mapped attribute, and the user store's field clocks beside it: one clock (this change)
    // for every field it set, the custom attribute included.
    expect(user?.CustomAttributes).toEqual([
      { Name: 'tier', Value: 'gold', Type: 'STRING' },
      {
        Name: 'adapter_field_clocks',
        Value: expect.stringMatching(/^2\|[0-9a-z]+\.[\w-]{5}\.[\w-]{8}\|u0,p0,e0,n0,~[\w-]{6}0$/),
        Type: 'STRING',
      },
    ]);
    expect(outcomes).toContainEqual({ connectionId: 'clerk', outcome: 'applied', count: 1 });
  });

  it('applies a WorkOS dsync.user.updated signed with the demo secret', async () => {
    const body = JSON.stringify({
      id: `event_${randomUUID()}`,
      event: 'dsync.user.updated',
      created_at: new Date().toISOString(),
      data: {
        object: 'directory_user',
        id: 'ext-bob',
        email: 'bob.new@example.com',
        first_name: 'Bob',
        last_name: 'Builder',
        emails: [{ primary: true, type: 'work', value: 'bob.new@example.com' }],
        state: 'active',
        custom_attributes: { department: 'Sales' },
        created_at: '2024-01-10T09:00:00.000Z',
        updated_at: new Date().toISOString(),
      },
    });
    const t = Date.now();
    const sig = createHmac('sha256', 'wos_demo_secret').update(`${t}.${body}`).digest('hex');
    const res = await post('workos', body, { 'workos-signature': `t=${t}, v1=${sig}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'applied', userId: 'demo-user-2' });
    expect(await describeUser('demo-user-2')).toMatchObject({
      Email: 'bob.new@example.com',
      Nickname: 'Bob Builder',
    });
  });

  it('applies an Auth0 Event Streams user.updated with the bearer token', async () => {
    const body = JSON.stringify({
      id: `evt_${randomUUID()}`,
      source: 'urn:auth0:example-tenant.us.auth0.com',
      specversion: '1.0',
      type: 'user.updated',
      time: new Date().toISOString(),
      data: {
        object: {
          user_id: 'ext-alice',
          email: 'alice.auth0@example.com',
          nickname: 'ali',
          updated_at: new Date().toISOString(),
        },
      },
    });
    const res = await post('auth0', body, { authorization: 'Bearer demo-auth0-token' });
    expect(res.status).toBe(200);
    expect(await describeUser('demo-user-1')).toMatchObject({
      Email: 'alice.auth0@example.com',
      Nickname: 'ali',
    });
  });

  it('applies a GitHub-style HMAC webhook mapped by the connection config', async () => {
    const body = JSON.stringify({
      id: 'ext-carol',
      email: 'carol.new@example.com',
      phone: '+65 9123 4567',
      name: 'Carol C',
    });
    const sig = createHmac('sha256', 'demo-hmac-secret').update(body).digest('hex');
    const res = await post('hmac', body, {
      'x-hub-signature-256': `sha256=${sig}`,
      'x-event-id': 'evt-1',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'applied',
      eventId: 'evt-1',
      userId: 'demo-user-3',
    });
    expect(await describeUser('demo-user-3')).toMatchObject({
      Email: 'carol.new@example.com',
      PhoneNumber: '+6591234567',
      Nickname: 'Carol C',
    });
  });

  it('refuses a tampered body with 401 SIGNATURE_INVALID and never calls CIAM', async () => {
    const body = clerkUserUpdated();
    const headers = clerkHeaders(body);
    const res = await post('clerk', body.replace('Alice', 'Mallory'), headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(stack.emulator.calls).toHaveLength(0);
    expect(outcomes).toContainEqual({
      connectionId: 'clerk',
      outcome: 'SIGNATURE_INVALID',
      count: 1,
    });
  });

  it('answers 404 CONNECTION_NOT_FOUND for an unknown connection', async () => {
    const res = await post('nope', '{}', {});
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
  });

  it('acknowledges event types that are not user changes as ignored', async () => {
    const body = JSON.stringify({
      type: 'session.created',
      object: 'event',
      data: { id: 'sess_1' },
    });
    const res = await post('clerk', body, clerkHeaders(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ignored', eventType: 'session.created' });
    expect(stack.emulator.calls).toHaveLength(0);
  });

  it('answers 404 USER_NOT_FOUND when no CIAM user carries the external id', async () => {
    const body = clerkUserUpdated({ id: 'ext-nobody' });
    const res = await post('clerk', body, clerkHeaders(body));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'USER_NOT_FOUND' });
    expect(apiCalls()).toBe(0);
  });

  it('answers 409 with the upstream code when the email belongs to another user', async () => {
    const body = clerkUserUpdated({
      email_addresses: [{ id: 'idn_1', object: 'email_address', email_address: 'bob@example.com' }],
    });
    const res = await post('clerk', body, clerkHeaders(body));
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      code: 'UPSTREAM_CONFLICT',
      upstreamCode: 'FailedOperation.EmailAlreadyExists',
    });
  });

  it('retries a transient CIAM failure and still applies the change', async () => {
    stack.emulator.faults.configure({ script: ['ServiceUnavailable'], actions: ['UpdateUser'] });
    const body = clerkUserUpdated({ first_name: 'Retried' });
    const res = await post('clerk', body, clerkHeaders(body));
    expect(res.status).toBe(200);
    expect((await describeUser('demo-user-1'))?.Nickname).toBe('Retried Liddell');
  });

  it('answers 503 with Retry-After when CIAM stays unavailable', async () => {
    stack.emulator.faults.configure({
      script: ['InternalError', 'InternalError', 'InternalError'],
      actions: ['UpdateUser'],
    });
    const body = clerkUserUpdated();
    const res = await post('clerk', body, clerkHeaders(body));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      upstreamCode: 'InternalError',
    });
  });

  it('refuses non-JSON content with 415, malformed JSON with 400 and big bodies with 413', async () => {
    const text = 'hello';
    const r415 = await post('clerk', text, { ...clerkHeaders(text), 'content-type': 'text/plain' });
    expect(r415.status).toBe(415);
    expect(await r415.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });

    const broken = '{"type": "user.updated",';
    const r400 = await post('clerk', broken, clerkHeaders(broken));
    expect(r400.status).toBe(400);
    expect(await r400.json()).toMatchObject({ code: 'PAYLOAD_INVALID' });

    const big = JSON.stringify({ type: 'user.updated', pad: 'x'.repeat(300 * 1024) });
    const r413 = await post('clerk', big, clerkHeaders(big));
    expect(r413.status).toBe(413);
    expect(await r413.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(stack.emulator.calls).toHaveLength(0);
  });

  it('answers 405 METHOD_NOT_ALLOWED from the handler for a method the route passes through', async () => {
    const res = await fetch(`${stack.server.url}/webhooks/clerk`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('reports healthy once the emulator answers', async () => {
    const res = await fetch(`${stack.server.url}/health`);
    expect(res.status).toBe(200);
  });

  it('answers an older change than the one applied 200 ignored "stale", and never writes it', async () => {
    const newer = clerkUserUpdated({
      first_name: 'Newer',
      last_name: '',
      updated_at: 1_800_000_002_000,
    });
    const older = clerkUserUpdated({
      first_name: 'Older',
      last_name: '',
      updated_at: 1_800_000_001_000,
    });
    expect((await post('clerk', newer, clerkHeaders(newer))).status).toBe(200);
    const res = await post('clerk', older, clerkHeaders(older));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ignored',
      reason: 'stale',
      eventType: 'user.updated',
      userId: 'demo-user-1',
    });
    expect((await describeUser('demo-user-1'))?.Nickname).toBe('Newer');
    expect(apiCalls()).toBe(1);
    expect(outcomes).toContainEqual({ connectionId: 'clerk', outcome: 'ignored', count: 1 });
    // Counted by its reason too, so dashboards can tell late events from replays.
    expect(outcomes).toContainEqual({ connectionId: 'clerk', outcome: 'stale', count: 1 });
  });

  it('applies one delivery sent five times once, the copies answered "duplicate"', async () => {
    const body = clerkUserUpdated();
    const headers = clerkHeaders(body);
    const statuses: unknown[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await post('clerk', body, headers);
      statuses.push(
        ((await res.json()) as { status: string; reason?: string }).reason ?? 'applied',
      );
    }
    expect(statuses).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(apiCalls()).toBe(1);
  });

  it('ends on the newest change when 30 deliveries for one user arrive concurrently', async () => {
    const times = Array.from({ length: 30 }, (_, i) => 1_800_000_000_000 + ((i * 7) % 30) * 1000);
    const bodies = times.map((t) =>
      clerkUserUpdated({ first_name: `T${t}`, last_name: '', updated_at: t }),
    );
    const answers = await Promise.all(bodies.map((b) => post('clerk', b, clerkHeaders(b))));
    expect(answers.every((res) => res.status === 200)).toBe(true);
    expect((await describeUser('demo-user-1'))?.Nickname).toBe(`T${Math.max(...times)}`);
  });
});
