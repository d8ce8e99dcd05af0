import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalFifoQueue, type LocalFifoQueue } from '../../local/fifo-queue.ts';
import { type LocalServer, startLocalServer } from '../../local/http-api.ts';
import { queueAdminRoutes } from '../../local/queue-admin.ts';
import { runDlqCli } from '../../scripts/dlq.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const START = Date.parse('2026-05-01T10:00:00.000Z');
const BODY = '{"subject":{"email":"ada@example.com"}}';

const REASON = {
  errorCode: 'USER_NOT_FOUND',
  upstreamCode: 'ResourceNotFound.UserNotExist',
  upstreamRequestId: 'req-123',
  attempts: '1',
  firstErrorAt: '2026-05-01T09:59:59.000Z',
  lastErrorAt: '2026-05-01T09:59:59.000Z',
  connectionId: 'clerk-main',
  eventId: 'evt_1',
  reason: 'permanent',
};

let clock = START;
let queue: LocalFifoQueue;
let deadLetterQueue: LocalFifoQueue;
let server: LocalServer;

const reset = async () => {
  clock = START;
  deadLetterQueue = createLocalFifoQueue({
    name: 'changes-dlq.fifo',
    now: () => clock,
    visibilityTimeoutSeconds: 30,
  });
  queue = createLocalFifoQueue({
    name: 'changes.fifo',
    now: () => clock,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 1,
    deadLetterQueue,
  });
  // One the consumer dead-lettered itself, with its reason attributes (and one it must not list).
  await deadLetterQueue.send({
    body: BODY,
    groupId: 'clerk-main:email:abc',
    deduplicationId: 'd-1',
    attributes: { ...REASON, internalNote: 'not for listings' },
  });
  // One SQS's redrive policy moved after maxReceiveCount receives.
  await queue.send({ body: '{"n":2}', groupId: 'g-2', deduplicationId: 'd-2' });
  queue.receive();
  clock += 31_000;
  queue.receive();
};

const getJson = async (path: string, init?: RequestInit) => {
  const response = await fetch(`${server.url}${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const captured = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    deps: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
  };
};

describe('local/queue-admin', () => {
  // Fresh queues and a server in front of them for every test.
  beforeEach(async () => {
    await reset();
    server = await startLocalServer({ routes: queueAdminRoutes({ queue, deadLetterQueue }) });
  });
  afterEach(async () => {
    await server.close();
  });

  it('GET /__queue/stats reports both queues', async () => {
    const { status, body } = await getJson('/__queue/stats');
    expect(status).toBe(200);
    expect(body).toEqual({
      queue: { name: 'changes.fifo', visible: 0, inFlight: 0, total: 0 },
      deadLetterQueue: { name: 'changes-dlq.fifo', visible: 2, inFlight: 0, total: 2 },
    });
  });

  it('GET /__queue/dlq lists the reason attributes and no bodies', async () => {
    const { status, body } = await getJson('/__queue/dlq');
    expect(status).toBe(200);
    expect(body.queue).toBe('changes-dlq.fifo');
    const letters = body.deadLetters as Record<string, unknown>[];
    expect(letters).toHaveLength(2);
    expect(letters[0]).toEqual({
      messageId: expect.any(String),
      groupId: 'clerk-main:email:abc',
      sentAt: '2026-05-01T10:00:00.000Z',
      receiveCount: 0,
      reason: REASON,
    });
    expect(letters[1]).toMatchObject({ groupId: 'g-2', sourceQueue: 'changes.fifo', reason: {} });
    expect(JSON.stringify(body)).not.toContain('ada@example.com');
    expect(JSON.stringify(body)).not.toContain('internalNote');
  });

  it('GET /__queue/dlq?showBody=1 adds the bodies', async () => {
    const { body } = await getJson('/__queue/dlq?showBody=1');
    const letters = body.deadLetters as { body?: string }[];
    expect(letters.map((letter) => letter.body)).toEqual([BODY, '{"n":2}']);
  });

  it('POST /__queue/dlq/redrive moves every dead letter back to the source queue', async () => {
    const { status, body } = await getJson('/__queue/dlq/redrive', { method: 'POST' });
    expect(status).toBe(200);
    expect(body).toEqual({ moved: 2, from: 'changes-dlq.fifo', to: 'changes.fifo' });
    expect(deadLetterQueue.stats().total).toBe(0);
    expect(queue.peek().map((message) => message.body)).toEqual([BODY, '{"n":2}']);
    // The reason attributes travel along, as SQS keeps message attributes on a move.
    expect(queue.peek()[0]?.attributes.errorCode).toBe('USER_NOT_FOUND');
  });

  it('answers 404 for a method the admin routes do not take', async () => {
    expect((await getJson('/__queue/dlq/redrive')).status).toBe(404);
    expect((await getJson('/__queue/stats', { method: 'DELETE' })).status).toBe(404);
  });

  describe('npm run dlq -- --local', () => {
    it('lists over HTTP as text, without bodies', async () => {
      const { out, deps } = captured();
      expect(await runDlqCli(['list', '--local', server.url], deps)).toBe(0);
      const text = out.join('\n');
      expect(text).toContain('2 dead letter(s) in changes-dlq.fifo');
      expect(text).toMatch(/errorCode\s+USER_NOT_FOUND/);
      expect(text).toMatch(/upstreamRequestId\s+req-123/);
      expect(text).toMatch(/group\s+clerk-main:email:abc/);
      expect(text).not.toContain('ada@example.com');
    });

    it('shows bodies with --show-body and prints JSON with --json', async () => {
      const { out, deps } = captured();
      expect(await runDlqCli(['--local', server.url, 'list', '--show-body', '--json'], deps)).toBe(
        0,
      );
      const letters = JSON.parse(out.join('\n')) as { body?: string }[];
      expect(letters.map((letter) => letter.body)).toEqual([BODY, '{"n":2}']);
    });

    it('redrives and reports the count; stats then shows them back in the queue', async () => {
      const redrive = captured();
      expect(await runDlqCli(['redrive', '--local', server.url], redrive.deps)).toBe(0);
      expect(redrive.out).toEqual([
        'Moved 2 dead letter(s) from changes-dlq.fifo back to changes.fifo.',
      ]);
      const stats = captured();
      expect(await runDlqCli(['stats', '--local', server.url, '--json'], stats.deps)).toBe(0);
      expect(JSON.parse(stats.out.join('\n'))).toMatchObject({
        queue: { visible: 2 },
        deadLetterQueue: { total: 0 },
      });
    });

    it('fails with exit code 1 and a hint when nothing listens', async () => {
      const { err, deps } = captured();
      expect(await runDlqCli(['list', '--local', 'http://127.0.0.1:9'], deps)).toBe(1);
      expect(err.join('\n')).toContain('is `npm start` running?');
    });

    it('works end to end as a process: npx tsx scripts/dlq.ts --local <url> list', async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [TSX, 'scripts/dlq.ts', '--local', server.url, 'list'],
        { cwd: ROOT },
      );
      expect(stdout).toContain('2 dead letter(s) in changes-dlq.fifo');
      expect(stdout).toMatch(/errorCode\s+USER_NOT_FOUND/);
      expect(stdout).not.toContain('ada@example.com');
    });

    it('exits 2 with the usage for a bad command line, as a process', async () => {
      const failure = await promisify(execFile)(
        process.execPath,
        [TSX, 'scripts/dlq.ts', 'purge', '--local', server.url],
        { cwd: ROOT },
      ).then(
        () => undefined,
        (error: unknown) => error as { code?: number; stderr?: string },
      );
      expect(failure?.code).toBe(2);
      expect(failure?.stderr).toContain("Unknown command 'purge'");
      expect(failure?.stderr).toContain('Usage: npm run dlq');
    });
  });
});
