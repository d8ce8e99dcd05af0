import { describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { EMULATOR_USER_STORE_ID, emulatorFetch } from '../helpers/emulator.ts';

const STORE = EMULATOR_USER_STORE_ID;
const alice = { UserStoreId: STORE, UserId: 'demo-user-1' };

/**
 * The emulator's sleep for latency faults, held until the test releases it: the test decides when
 * a delayed call goes on, so nothing here depends on how fast the machine is.
 */
const heldSleeps = () => {
  const held: Array<{ ms: number; signal: AbortSignal; release: () => void }> = [];
  const listeners = new Set<() => void>();
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((release) => {
      held.push({ ms, signal, release });
      for (const listener of listeners) listener();
    });
  /** Resolves once `count` calls are waiting in their delay. */
  const begun = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (held.length < count) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  return { sleep, held, begun };
};

/** Whether `promise` has settled once everything already queued has run (one event-loop turn). */
const settledByNow = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

const withEmulator = async (
  test: (emulator: Emulator, sleeps: ReturnType<typeof heldSleeps>) => Promise<void>,
) => {
  const sleeps = heldSleeps();
  const emulator = await startEmulator({
    rateLimit: Number.POSITIVE_INFINITY,
    sleep: sleeps.sleep,
  });
  try {
    await test(emulator, sleeps);
  } finally {
    for (const { release } of sleeps.held) release();
    await emulator.close();
  }
};

const update = (emulator: Emulator, nickname: string, signal?: AbortSignal) =>
  emulatorFetch(emulator.url, {
    action: 'UpdateUser',
    body: { ...alice, Nickname: nickname },
    ...(signal === undefined ? {} : { signal }),
  });

const nicknameIn = (emulator: Emulator) => emulator.store.getUser(STORE, 'demo-user-1')?.Nickname;

describe('emulator idle()', () => {
  it('resolves at once when no call is pending, before and after answered calls', async () => {
    await withEmulator(async (emulator) => {
      expect(await settledByNow(emulator.idle())).toBe(true);
      const res = await update(emulator, 'quick');
      expect(res.status).toBe(200);
      expect(await settledByNow(emulator.idle())).toBe(true);
    });
  });

  it('waits for a delayed call the client gave up on, until its write has landed', async () => {
    await withEmulator(async (emulator, sleeps) => {
      emulator.faults.configure({ script: [{ kind: 'latency', latencyMs: 5000 }] });
      const client = new AbortController();
      const abandoned = update(emulator, 'late', client.signal);
      await sleeps.begun(1);
      expect(sleeps.held.map((sleep) => sleep.ms)).toEqual([5000]);
      client.abort();
      await expect(abandoned).rejects.toMatchObject({ name: 'AbortError' });

      const idle = emulator.idle();
      expect(await settledByNow(idle)).toBe(false);
      expect(nicknameIn(emulator)).toBeUndefined();

      sleeps.held[0]?.release();
      await idle;
      expect(nicknameIn(emulator)).toBe('late');
      expect(emulator.calls).toEqual([
        expect.objectContaining({ action: 'UpdateUser', fault: 'latency' }),
      ]);
      expect(emulator.calls[0]).not.toHaveProperty('code');
    });
  });

  it('waits for every pending call, not only the first to finish', async () => {
    await withEmulator(async (emulator, sleeps) => {
      emulator.faults.configure({ script: ['latency', 'latency'] });
      const first = update(emulator, 'first');
      await sleeps.begun(1);
      const second = update(emulator, 'second');
      await sleeps.begun(2);
      const idle = emulator.idle();

      sleeps.held[0]?.release();
      expect((await first).status).toBe(200);
      expect(await settledByNow(idle)).toBe(false);
      expect(nicknameIn(emulator)).toBe('first');

      sleeps.held[1]?.release();
      expect((await second).status).toBe(200);
      await idle;
      expect(nicknameIn(emulator)).toBe('second');
    });
  });

  it('resolves when close() cuts a delay short, and the delayed call writes nothing', async () => {
    const sleeps = heldSleeps();
    const emulator = await startEmulator({ sleep: sleeps.sleep });
    emulator.faults.configure({ script: ['latency'] });
    const pending = update(emulator, 'never');
    // The answer never comes: the connection is closed under it.
    pending.catch(() => undefined);
    await sleeps.begun(1);
    const idle = emulator.idle();
    expect(await settledByNow(idle)).toBe(false);

    await emulator.close();
    await idle;
    expect(sleeps.held[0]?.signal.aborted).toBe(true);
    await expect(pending).rejects.toThrow();
    expect(nicknameIn(emulator)).toBeUndefined();
    expect(emulator.calls).toEqual([]);
  });
});
