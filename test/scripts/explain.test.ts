import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newPlan, writePlanFile } from '../../lib/reconcile/plan.ts';
import { signHmacDelivery } from '../../lib/sources/hmac/sender.ts';
import { runExplainCli } from '../../scripts/explain.ts';
import { useEmulator } from '../helpers/emulator.ts';
import { clerkEvent, hmacEvent } from '../helpers/events.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'explain-cli-'));

const emulator = useEmulator({}, { resetBeforeEach: true });

const write = (name: string, content: string | object) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExplainCli(argv, {
    env: { CIAM_EMULATOR_PORT: String(emulator().port) },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  const json = out.at(-1)?.startsWith('EXPLAIN ')
    ? (JSON.parse(out.at(-1)?.slice(8) ?? '') as Record<string, unknown>)
    : undefined;
  return { code, out: out.join('\n'), err: err.join('\n'), json };
};

const writes = () => emulator().calls.filter(({ action }) => action === 'UpdateUser');

describe('npm run explain', () => {
  it('traces a signed event file of npm start as a process, ending with EXPLAIN {json}', async () => {
    const file = write('clerk.json', clerkEvent());
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [TSX, 'scripts/explain.ts', '--local', '--connection', 'clerk', file],
      { cwd: ROOT, env: { ...process.env, CIAM_EMULATOR_PORT: String(emulator().port) } },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'connection clerk (standard-webhooks, sync, user store local-store): a delivery',
    );
    expect(stdout).toContain('signature  valid');
    expect(stdout).toContain('resolve  by indexedAttribute1 = ext-alice → demo-user-1');
    expect(stdout).not.toContain('alice@example.com');
    const last = lines.at(-1) ?? '';
    expect(last.startsWith('EXPLAIN {')).toBe(true);
    expect(JSON.parse(last.slice(8))).toMatchObject({ outcome: 'would_write', writes: 0 });
    expect(writes()).toEqual([]);
  });

  it('prints the exact body only when asked', async () => {
    const file = write('clerk-body.json', clerkEvent());
    const masked = await run(['--local', '--connection', 'clerk', file]);
    expect(masked.out).not.toContain('alice@example.com');
    const shown = await run(['--local', '--connection', 'clerk', '--show-body', file]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^\{"UserStoreId":"local-store",.*"Email":"alice@example\.com"/m);
    // The JSON line never carries the body, asked or not.
    expect(JSON.stringify(shown.json)).not.toContain('alice@example.com');
  });

  it('checks a committed sample as at the time it was signed with --at', async () => {
    const now = await run(['--local', '--connection', 'clerk', 'events/clerk.user-updated.json']);
    expect(now.json).toMatchObject({ outcome: 'refused', signature: { verdict: 'invalid' } });
    expect(now.out).toContain(
      'signature  invalid: SIGNATURE_INVALID The webhook signature could not be verified (timestamp_out_of_tolerance); the real path stops here',
    );
    const then = await run([
      '--local',
      '--connection',
      'clerk',
      '--at',
      '2025-01-01T00:00:00Z',
      'events/clerk.user-updated.json',
    ]);
    expect(then.json).toMatchObject({ outcome: 'would_write', signature: { verdict: 'valid' } });
  });

  it('takes a raw body with its headers', async () => {
    const event = hmacEvent(undefined, { eventId: 'evt-raw-1' });
    const body = write('raw-body.json', event.body ?? '');
    const headers = Object.entries(event.headers)
      .filter(([name]) => /^(content-type|x-hub-signature-256|x-event-id)$/.test(name))
      .flatMap(([name, value]) => ['--header', `${name}: ${value}`]);
    const { code, json } = await run([
      '--local',
      '--connection',
      'hmac',
      '--body',
      body,
      ...headers,
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({ signature: { verdict: 'valid' }, outcome: 'would_write' });
    expect(json).not.toHaveProperty('sourceIp');
  });

  it("reads a connection's user from its own CIAM tenant, with that tenant's credentials", async () => {
    const body = JSON.stringify({ id: 'ext-dana', name: 'Dana Explained' });
    const headers = Object.entries({
      'content-type': 'application/json',
      'x-event-id': 'evt-acme-explain',
      ...signHmacDelivery({ body, secret: 'demo-acme-hmac-secret', nowMs: Date.now() }),
    }).flatMap(([name, value]) => ['--header', `${name}: ${value}`]);
    const { code, json } = await run([
      '--local',
      '--connection',
      'acme-hmac',
      '--body',
      write('acme-body.json', body),
      ...headers,
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({ outcome: 'would_write', writes: 0 });
    const reads = emulator().calls;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((call) => call.secretId === 'AKIDacmedemo')).toBe(true);
    expect(reads.every((call) => call.userStoreId === 'acme-store')).toBe(true);
    expect(writes()).toEqual([]);
  });

  it('explains a reconciliation plan entry, found by CIAM user id or external id', async () => {
    // Written by reconciliation's own plan writer, so explain reads the file `npm run reconcile`
    // writes, not a shape of its own.
    const plan = join(dir, 'plan.json');
    writePlanFile(plan, {
      ...newPlan('clerk', Date.parse('2025-03-01T00:00:00.000Z')),
      complete: true,
      entries: [
        {
          kind: 'change',
          userId: 'demo-user-2',
          externalId: 'ext-bob',
          fields: [{ field: 'Nickname', from: 'b***', to: 'B***' }],
          change: {
            connectionId: 'clerk',
            eventId: 'snapshot:ext-bob:2025-03-01T00:00:00.000Z',
            eventType: 'user.snapshot',
            occurredAt: '2025-03-01T00:00:00.000Z',
            subject: { externalId: 'ext-bob' },
            attributes: { nickname: 'Bobby' },
            raw: {},
          },
        },
        { kind: 'orphaned', userId: 'demo-user-3' },
      ],
    });
    for (const user of ['demo-user-2', 'ext-bob']) {
      const { code, out, json } = await run(['--local', '--plan', plan, '--user', user]);
      expect(code).toBe(0);
      expect(out).toContain('signature  none: a snapshot from the source API');
      expect(json).toMatchObject({ input: 'snapshot', outcome: 'would_write' });
    }
    const missing = await run(['--local', '--plan', plan, '--user', 'ext-nobody']);
    expect(missing).toMatchObject({
      code: 1,
      err: 'explain: REQUEST_INVALID No plan entry for user "ext-nobody"',
    });
    expect(writes()).toEqual([]);
  });

  it('refuses a bad command line with the usage (exit 2), and a bad input with its code (exit 1)', async () => {
    expect((await run(['events/clerk.user-updated.json'])).code).toBe(2);
    expect((await run(['--connection', 'clerk'])).code).toBe(2);
    expect((await run(['--plan', 'p.json'])).code).toBe(2);
    expect((await run(['--connection', 'clerk', '--at', 'soon', 'x.json'])).code).toBe(2);
    expect((await run(['--bogus'])).code).toBe(2);
    expect((await run(['--help'])).out).toContain('Usage: npm run explain');
    const unknown = await run([
      '--local',
      '--connection',
      'nope',
      'events/clerk.user-updated.json',
    ]);
    expect(unknown).toMatchObject({
      code: 1,
      err: 'explain: CONNECTION_NOT_FOUND No connection "nope"',
    });
    const sqs = await run(['--local', '--connection', 'clerk', 'events/queue.clerk-queued.json']);
    expect(sqs.err).toMatch(/An SQS event/);
  });
});
