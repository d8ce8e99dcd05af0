import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ExplainInput, type ExplainTrace, explain } from '../../lib/explain/explain.ts';
import { deliveryFromEvent } from '../../lib/explain/input.ts';
import { renderTrace, traceJson } from '../../lib/explain/render.ts';
import { createRuntime } from '../../lib/runtime/index.ts';
import { clerkEvent, fixturePayload, readEvent, workosEvent } from '../helpers/events.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const STORE = 'local-store';
const local = readJson('config/local.json') as Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), 'explain-'));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await stack.emulator.idle();
  stack.emulator.reset();
});

/** Explain against the stack's emulator, with config/local.json or a variant of it. */
const run = async (input: ExplainInput, config: unknown = local): Promise<ExplainTrace> => {
  const configPath = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(configPath, JSON.stringify(config));
  const runtime = createRuntime(
    {
      ADAPTER_CONFIG: configPath,
      ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
      CIAM_ENDPOINT: stack.emulator.url,
    },
    { logger: new Logger({ logLevel: 'SILENT' }), recordOutcome: () => {} },
  );
  return explain(
    {
      config: runtime.config,
      ciam: runtime.tenants.byId('default').ciam,
      prepareRequest: (action, params) =>
        runtime.tenants.byId('default').tencent.prepare(action, params),
      secrets: runtime.secrets,
      fetch: runtime.fetch,
      now: runtime.now,
    },
    input,
  );
};

const delivery = (connectionId: string, event: APIGatewayProxyEventV2): ExplainInput => ({
  kind: 'delivery',
  connectionId,
  ...deliveryFromEvent(JSON.stringify(event)),
});

/** The same event through the real path: the local API Gateway and the webhook function. */
const deliver = async (connectionId: string, event: APIGatewayProxyEventV2) => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers)) {
    if (
      value !== undefined &&
      (name === 'content-type' || !/^(host|content-length|accept|x-)/.test(name))
    ) {
      headers[name] = value;
    }
  }
  const response = await fetch(`${stack.server.url}/webhooks/${connectionId}`, {
    method: 'POST',
    headers,
    body: event.body ?? '',
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const actions = () => stack.emulator.calls.map(({ action }) => action);

const clerkWith = (data: Record<string, unknown>, options: { id?: string } = {}) => {
  const payload = fixturePayload('clerk.user-updated');
  return clerkEvent(
    { ...payload, data: { ...(payload.data as Record<string, unknown>), ...data } },
    options,
  );
};

describe('explain a delivery (CIAM emulator over HTTP)', () => {
  it('shows the exact UpdateUser body the real path then sends, and writes nothing', async () => {
    const event = clerkEvent();
    const trace = await run(delivery('clerk', event));

    expect(trace.outcome).toBe('would_write');
    expect(trace.signature).toEqual({ verdict: 'valid' });
    expect(trace.writes).toBe(0);
    const [change] = trace.changes;
    expect(change?.resolve).toEqual({
      by: 'indexedAttribute1',
      value: 'ext-alice',
      userId: 'demo-user-1',
    });
    expect(change?.decision).toBe('write');
    expect(change?.fields?.find(({ field }) => field === 'PhoneNumber')).toMatchObject({
      verdict: 'newer',
      now: '+65******67',
      wouldBe: '+65******61',
      changed: true,
    });
    expect(actions()).not.toContain('UpdateUser');
    expect(new Set(actions())).toEqual(new Set(['DescribeUser', 'DescribeUserById']));
    expect(change?.request?.headers.Authorization).toMatch(/Signature=<redacted>$/);
    expect(change?.request?.headers.Authorization).not.toContain('AKIDlocaldemo');

    const answer = await deliver('clerk', event);
    expect(answer.status).toBe(200);
    const sent = stack.emulator.calls.filter(({ action }) => action === 'UpdateUser');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toBe(change?.request?.body);
  });

  it('keeps personal data out of the JSON form', async () => {
    const trace = await run(delivery('clerk', clerkEvent()));
    const json = JSON.stringify(traceJson(trace));
    expect(json).toContain('"bodySha256"');
    for (const clear of [
      'alice@example.com',
      '+6591234561',
      '+6581234567',
      'Engineering',
      'Anders',
    ]) {
      expect(json).not.toContain(clear);
    }
  });

  it('stops at an invalid signature, as the real path does, before any CIAM call', async () => {
    const trace = await run(delivery('clerk', clerkEvent(undefined, { secret: 'whsec_d3Jvbmc=' })));
    expect(trace.signature).toMatchObject({
      verdict: 'invalid',
      error: { code: 'SIGNATURE_INVALID' },
    });
    expect(trace.refused).toMatchObject({ step: 'authenticate', statusCode: 401 });
    expect(trace.outcome).toBe('refused');
    expect(trace.changes).toEqual([]);
    expect(actions()).toEqual([]);
  });

  it('names an event type the connection does not handle', async () => {
    const payload = { ...fixturePayload('clerk.user-updated'), type: 'session.created' };
    const trace = await run(delivery('clerk', clerkEvent(payload)));
    expect(trace.outcome).toBe('ignored');
    expect(trace.ignored).toEqual([
      expect.objectContaining({ eventType: 'session.created', reason: 'event_type_not_handled' }),
    ]);
    expect(actions()).toEqual([]);
  });

  it("shows a change the connection's filter leaves out, as the real path answers it", async () => {
    const payload = fixturePayload('clerk.user-updated') as { data: Record<string, unknown> };
    const outside = {
      ...payload,
      data: { ...payload.data, public_metadata: { ciamSync: false } },
    };
    const event = clerkEvent(outside);
    const trace = await run(delivery('clerk', event));
    expect(trace.outcome).toBe('ignored');
    expect(trace.ignored).toEqual([expect.objectContaining({ reason: 'filtered' })]);
    expect(trace.changes).toEqual([]);
    expect(actions()).toEqual([]);
    const real = await deliver('clerk', event);
    expect(real.body).toMatchObject({ status: 'ignored', reason: 'filtered' });
  });

  it('says how a user was not found', async () => {
    const trace = await run(delivery('clerk', clerkWith({ id: 'ext-nobody' })));
    const [change] = trace.changes;
    expect(change?.resolve).toMatchObject({
      by: 'indexedAttribute1',
      value: 'ext-nobody',
      error: { code: 'USER_NOT_FOUND' },
    });
    expect(change?.decision).toBe('error');
    expect(change?.request).toBeUndefined();
    expect(trace.outcome).toBe('would_fail');
  });

  it('shows fields a newer change at CIAM holds as skipped, with that clock', async () => {
    const newer = clerkWith(
      { updated_at: Date.parse('2025-06-01T00:00:00Z') },
      { id: 'msg_newer' },
    );
    expect((await deliver('clerk', newer)).status).toBe(200);
    const calls = stack.emulator.calls.length;

    const trace = await run(delivery('clerk', clerkEvent()));
    const [change] = trace.changes;
    expect(change?.decision).toBe('skip');
    expect(change?.skipReason).toBe('stale');
    expect(change?.fields?.find(({ field }) => field === 'Nickname')).toMatchObject({
      verdict: 'stale',
      clock: { at: '2025-06-01T00:00:00.000Z', connection: 'clerk' },
      changed: false,
    });
    expect(change?.request).toBeUndefined();
    expect(trace.outcome).toBe('would_skip');
    expect(actions().slice(calls)).not.toContain('UpdateUser');
  });

  it('shows a field the user store gives to another connection as not authoritative', async () => {
    const config = { ...local, userStores: { [STORE]: { authority: { Nickname: ['workos'] } } } };
    const trace = await run(delivery('clerk', clerkEvent()), config);
    const [change] = trace.changes;
    expect(change?.fields?.find(({ field }) => field === 'Nickname')).toMatchObject({
      verdict: 'not_authoritative',
      authority: ['workos'],
      changed: false,
    });
    expect(change?.decision).toBe('write');
    const body = JSON.parse(change?.request?.body ?? '{}') as Record<string, unknown>;
    expect(body).not.toHaveProperty('Nickname');
    expect(body).toHaveProperty('Email', 'alice@example.com');
  });

  it('traces a membership event to the group it sets, and sends what the real path sends', async () => {
    const payload = fixturePayload('workos.group-user-added');
    const event = workosEvent(payload);
    const trace = await run(delivery('workos', event));
    const [change] = trace.changes;
    expect(change?.mapping).toEqual({ memberships: [{ groupId: 'group-staff', member: true }] });
    expect(change?.fields).toEqual([
      expect.objectContaining({
        field: 'group:group-staff',
        verdict: 'newer',
        now: 'not a member',
        wouldBe: 'member',
      }),
    ]);
    expect(actions()).not.toContain('UpdateUser');
    expect((await deliver('workos', event)).status).toBe(200);
    const sent = stack.emulator.calls.find(({ action }) => action === 'UpdateUser');
    expect(sent?.body).toBe(change?.request?.body);
  });

  it('shows where a queued connection would enqueue the change', async () => {
    const trace = await run(delivery('clerk-queued', clerkEvent()));
    expect(trace.changes[0]?.queue).toEqual({
      groupId: `${STORE}:demo-user-1`,
      deduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(trace.note).toMatch(/enqueues/);
    expect(trace.changes[0]?.decision).toBe('write');
  });

  it('traces a reconciliation snapshot from the mapping on, without a signature', async () => {
    const trace = await run({
      kind: 'snapshot',
      connectionId: 'clerk',
      planUserId: 'demo-user-1',
      change: {
        connectionId: 'clerk',
        eventId: 'reconcile-1',
        eventType: 'user.snapshot',
        occurredAt: '2025-02-01T00:00:00.000Z',
        subject: { externalId: 'ext-alice', email: 'alice@example.com' },
        attributes: { email: 'alice@example.com', nickname: 'Ally' },
        raw: {},
      },
    });
    expect(trace.signature).toBeUndefined();
    expect(trace.input).toBe('snapshot');
    const [change] = trace.changes;
    expect(change?.resolve).toMatchObject({ userId: 'demo-user-1', planUserId: 'demo-user-1' });
    expect(change?.fields?.find(({ field }) => field === 'Nickname')).toMatchObject({
      verdict: 'newer',
      now: null,
      changed: true,
    });
    expect(actions()).not.toContain('UpdateUser');
  });

  it('traces a plan entry with memberships as its attribute change and its membership change', async () => {
    const trace = await run({
      kind: 'snapshot',
      connectionId: 'workos',
      planUserId: 'demo-user-1',
      change: {
        connectionId: 'workos',
        eventId: 'reconcile-2',
        eventType: 'user.snapshot',
        occurredAt: '2025-02-01T00:00:00.000Z',
        subject: { externalId: 'ext-alice', email: 'alice@example.com' },
        attributes: { email: 'alice@example.com', nickname: 'Ally' },
        raw: {},
        memberships: [{ group: { id: 'directory_group_staff', name: 'Staff' }, member: true }],
      },
    });
    expect(trace.changes.map(({ mapping }) => mapping)).toEqual([
      expect.objectContaining({ fields: expect.arrayContaining(['Nickname']) }),
      { memberships: [{ groupId: 'group-staff', member: true }] },
    ]);
    expect(trace.changes.map(({ decision }) => decision)).toEqual(['write', 'write']);
    expect(actions()).not.toContain('UpdateUser');
  });

  it('shows what the queue function sends for a queued connection, byte for byte', async () => {
    const event = clerkEvent();
    const trace = await run(delivery('clerk-queued', event));
    expect(actions()).not.toContain('UpdateUser');
    expect((await deliver('clerk-queued', event)).status).toBe(202);
    await stack.queue.poller.drain();
    const sent = stack.emulator.calls.filter(({ action }) => action === 'UpdateUser');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toBe(trace.changes[0]?.request?.body);
  });

  it('stops at a source IP the connection does not allow', async () => {
    const config = {
      ...local,
      connections: (local.connections as Record<string, unknown>[]).map((connection) =>
        connection.id === 'clerk'
          ? { ...connection, allowedSourceIps: ['192.0.2.0/24'] }
          : connection,
      ),
    };
    const trace = await run(delivery('clerk', clerkEvent()), config);
    expect(trace.sourceIp).toEqual({ ip: '203.0.113.7', verdict: 'refused' });
    expect(trace.refused).toMatchObject({ step: 'source_ip', code: 'SOURCE_IP_NOT_ALLOWED' });
    expect(trace.signature).toBeUndefined();
    expect(renderTrace(trace, { showBody: false })).toContain(
      'refused    at source_ip: 403 SOURCE_IP_NOT_ALLOWED The source IP is not on the allow-list',
    );
  });

  it('refuses the whole delivery when a change cannot be mapped', async () => {
    const trace = await run(delivery('clerk', clerkWith({ birthday: 'not a date' })));
    expect(trace.refused).toMatchObject({
      step: 'mapping',
      code: 'MAPPING_INVALID',
      statusCode: 422,
    });
    expect(trace.changes[0]?.mapping).toMatchObject({ error: { code: 'MAPPING_INVALID' } });
    expect(renderTrace(trace, { showBody: false }).join('\n')).toContain(
      'mapping  refused: MAPPING_INVALID',
    );
  });

  it('answers a handshake without applying anything', async () => {
    const config = {
      ...local,
      connections: [
        ...(local.connections as unknown[]),
        {
          id: 'okta',
          source: 'okta',
          userStoreId: STORE,
          secrets: {
            signing: [{ name: 'ciam-webhook-adapter/okta', key: 'hookSecret' }],
            apiToken: { name: 'ciam-webhook-adapter/okta', key: 'apiToken' },
          },
          resolve: { by: 'indexedAttribute', index: 1 },
          options: { orgUrl: 'https://demo.okta.com' },
        },
      ],
    };
    const trace = await run(delivery('okta', readEvent('okta.verification')), config);
    expect(trace.outcome).toBe('handshake');
    expect(actions()).toEqual([]);
  });

  it('renders skipped, failed and ignored changes, and a plan entry that names another user', async () => {
    const lines = (trace: ExplainTrace) => renderTrace(trace, { showBody: false }).join('\n');
    const missing = await run(delivery('clerk', clerkWith({ id: 'ext-nobody' })));
    expect(lines(missing)).toContain('  decision fails: USER_NOT_FOUND');
    const ignored = await run(
      delivery(
        'clerk',
        clerkEvent({ ...fixturePayload('clerk.user-updated'), type: 'session.created' }),
      ),
    );
    expect(lines(ignored)).toMatch(/ignored {4}msg_\S+ session\.created: event_type_not_handled/);
    expect(lines(ignored)).toContain('outcome    ignored: nothing to apply');
    const snapshot = await run({
      kind: 'snapshot',
      connectionId: 'clerk',
      planUserId: 'demo-user-9',
      change: {
        connectionId: 'clerk',
        eventId: 'reconcile-2',
        eventType: 'user.snapshot',
        occurredAt: '2025-02-01T00:00:00.000Z',
        subject: { externalId: 'ext-alice' },
        attributes: { nickname: 'Ally' },
        raw: {},
      },
    });
    expect(lines(snapshot)).toContain('           the plan entry names demo-user-9');
  });
});
