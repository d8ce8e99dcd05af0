import { describe, expect, it } from 'vitest';
import {
  callEmulator,
  EMULATOR_USER_STORE_ID,
  emulatorFetch,
  errorCode,
  useEmulator,
} from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;
const alice = { UserStoreId: STORE, UserId: 'demo-user-1' };

describe('emulator fault injection', () => {
  const emulator = useEmulator({ rateLimit: Number.POSITIVE_INFINITY }, { resetBeforeEach: true });
  const call = (action: string, body: unknown) => callEmulator(emulator().url, { action, body });
  const update = (nickname: string) => call('UpdateUser', { ...alice, Nickname: nickname });

  it('answers scripted API error codes in order and leaves the store untouched', async () => {
    emulator().faults.configure({
      script: ['InternalError', 'ServiceUnavailable', 'RequestLimitExceeded.RepeatRequest', null],
    });

    const codes: Array<string | undefined> = [];
    for (const nickname of ['n1', 'n2', 'n3']) {
      codes.push(errorCode((await update(nickname)).Response));
      expect(emulator().store.getUser(STORE, 'demo-user-1')?.Nickname).toBeUndefined();
    }
    const fourth = await update('n4');

    expect(codes).toEqual([
      'InternalError',
      'ServiceUnavailable',
      'RequestLimitExceeded.RepeatRequest',
    ]);
    expect(errorCode(fourth.Response)).toBeUndefined();
    expect(emulator().store.getUser(STORE, 'demo-user-1')?.Nickname).toBe('n4');
    expect(emulator().faults.snapshot().scriptRemaining).toBe(0);
  });

  it('answers http502 with a non-JSON 502, and only for authenticated calls', async () => {
    emulator().faults.configure({ script: ['http502'] });
    const unsigned = await fetch(`${emulator().url}/`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(200);
    expect(emulator().faults.snapshot().scriptRemaining).toBe(1);

    const res = await emulatorFetch(emulator().url, { action: 'DescribeUserById', body: alice });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).not.toContain('json');
    expect(emulator().calls.at(-1)).toMatchObject({ action: 'DescribeUserById', code: 'http502' });
  });

  it('drops the connection without an answer', async () => {
    emulator().faults.configure({ script: ['drop'] });
    // undici reports a connection closed without an answer as `TypeError: fetch failed`.
    await expect(call('UpdateUser', { ...alice, Nickname: 'dropped' })).rejects.toMatchObject({
      name: 'TypeError',
      message: 'fetch failed',
    });
    expect(emulator().store.getUser(STORE, 'demo-user-1')?.Nickname).toBeUndefined();
    expect(emulator().calls.at(-1)).toMatchObject({ action: 'UpdateUser', code: 'drop' });
  });

  it('delays the answer for latency, then processes the call', async () => {
    emulator().faults.configure({ script: [{ kind: 'latency', latencyMs: 20 }] });
    const res = await update('slow');
    expect(errorCode(res.Response)).toBeUndefined();
    expect(emulator().calls.at(-1)).toEqual(
      expect.objectContaining({ action: 'UpdateUser', fault: 'latency' }),
    );
    expect(emulator().calls.at(-1)?.code).toBeUndefined();
  });

  it('limits faults, and script consumption, to the listed actions', async () => {
    emulator().faults.configure({ script: ['InternalError'], actions: ['UpdateUser'] });
    const read = await call('DescribeUserById', alice);
    const write = await update('x');
    expect(errorCode(read.Response)).toBeUndefined();
    expect(errorCode(write.Response)).toBe('InternalError');
  });

  it('draws faults by rate with an injectable random', async () => {
    const draws = [0.1, 0.9, 0.3, 0.7];
    let i = 0;
    emulator().faults.configure({
      rates: { ServiceUnavailable: 0.5 },
      random: () => draws[i++ % draws.length] ?? 0,
    });
    const codes = [];
    for (let n = 0; n < 4; n += 1)
      codes.push(errorCode((await call('DescribeUserById', alice)).Response));
    expect(codes).toEqual(['ServiceUnavailable', undefined, 'ServiceUnavailable', undefined]);
  });

  it('is reproducible with a seed and honours rate 1 and rate 0', async () => {
    const run = async (seed: number) => {
      emulator().faults.configure({ rates: { InternalError: 0.3, ServiceUnavailable: 0.3 }, seed });
      const codes = [];
      for (let n = 0; n < 20; n += 1)
        codes.push(errorCode((await call('DescribeUserById', alice)).Response));
      return codes;
    };
    const first = await run(7);
    const second = await run(7);
    expect(second).toEqual(first);
    expect(first.filter((c) => c === undefined).length).toBeGreaterThan(0);
    expect(first.filter((c) => c !== undefined).length).toBeGreaterThan(0);

    emulator().faults.configure({ rates: { InternalError: 1 } });
    expect(errorCode((await call('DescribeUserById', alice)).Response)).toBe('InternalError');
    emulator().faults.configure({ rates: { InternalError: 0 } });
    expect(errorCode((await call('DescribeUserById', alice)).Response)).toBeUndefined();
  });

  it('rejects malformed fault options with CONFIG_INVALID', () => {
    const thrown = (options: unknown): unknown => {
      try {
        emulator().faults.configure(options as never);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const options of [
      { rates: { InternalError: 2 } },
      { script: ['not a code'] },
      { rates: { InternalError: 0.6, drop: 0.6 } },
    ]) {
      expect(thrown(options)).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' });
    }
  });

  it('applies faults passed at start-up', async () => {
    // Separate emulator: start-up options, not configure().
    const { startEmulator } = await import('../../emulator/server.ts');
    const other = await startEmulator({ faults: { script: ['ServiceUnavailable'] } });
    try {
      const res = await callEmulator(other.url, { action: 'DescribeUserById', body: alice });
      expect(errorCode(res.Response)).toBe('ServiceUnavailable');
    } finally {
      await other.close();
    }
  });
});

describe('emulator admin endpoints', () => {
  const emulator = useEmulator({ rateLimit: Number.POSITIVE_INFINITY }, { resetBeforeEach: true });
  const admin = (path: string, init?: RequestInit) =>
    fetch(`${emulator().url}/__emulator/${path}`, init);
  const post = (path: string, body: unknown) =>
    admin(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('answers health', async () => {
    const res = await admin('health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('configures faults over HTTP and reports them', async () => {
    const set = await post('faults', {
      script: ['RequestLimitExceeded', 'none'],
      actions: ['UpdateUser'],
    });
    expect(set.status).toBe(200);
    const state = (await (await admin('faults')).json()) as { scriptRemaining: number };
    expect(state.scriptRemaining).toBe(2);

    const first = await callEmulator(emulator().url, {
      action: 'UpdateUser',
      body: { ...alice, Nickname: 'a' },
    });
    const second = await callEmulator(emulator().url, {
      action: 'UpdateUser',
      body: { ...alice, Nickname: 'b' },
    });
    expect(errorCode(first.Response)).toBe('RequestLimitExceeded');
    expect(errorCode(second.Response)).toBeUndefined();

    const cleared = await admin('faults', { method: 'DELETE' });
    expect(cleared.status).toBe(200);
  });

  it('answers 400 for malformed fault options', async () => {
    expect((await post('faults', '{not json')).status).toBe(400);
    expect((await post('faults', { rates: { InternalError: 5 } })).status).toBe(400);
    expect((await post('faults', { bogus: true })).status).toBe(400);
  });

  it('lists calls with action, code, SecretId and user store only', async () => {
    await callEmulator(emulator().url, { action: 'DescribeUserById', body: alice });
    await callEmulator(emulator().url, {
      action: 'DescribeUserById',
      body: { ...alice, UserId: 'nobody' },
    });
    const res = await admin('calls');
    const { calls } = (await res.json()) as { calls: Array<Record<string, unknown>> };
    expect(calls).toEqual([
      {
        action: 'DescribeUserById',
        secretId: 'AKIDlocaldemo',
        userStoreId: STORE,
        at: expect.any(Number),
        body: JSON.stringify(alice),
      },
      {
        action: 'DescribeUserById',
        secretId: 'AKIDlocaldemo',
        userStoreId: STORE,
        code: 'FailedOperation.UserNotFound',
        at: expect.any(Number),
        body: JSON.stringify({ ...alice, UserId: 'nobody' }),
      },
    ]);
  });

  it('resets the store, faults and the call log', async () => {
    await callEmulator(emulator().url, {
      action: 'UpdateUser',
      body: { ...alice, Nickname: 'changed' },
    });
    emulator().faults.configure({ script: ['InternalError'] });

    const res = await post('reset', '');
    expect(res.status).toBe(200);
    expect(emulator().store.getUser(STORE, 'demo-user-1')?.Nickname).toBeUndefined();
    expect(emulator().calls).toHaveLength(0);
    const after = await callEmulator(emulator().url, { action: 'DescribeUserById', body: alice });
    expect(errorCode(after.Response)).toBeUndefined();
  });

  it('answers 404 for unknown admin paths and 405 for wrong methods', async () => {
    expect((await admin('nope')).status).toBe(404);
    expect((await admin('reset')).status).toBe(405);
    expect((await post('health', {})).status).toBe(405);
  });
});
