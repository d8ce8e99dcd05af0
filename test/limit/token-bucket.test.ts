import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenBucket, RateLimitedError } from '../../lib/limit/token-bucket.ts';

/**
 * Virtual time: `sleep` registers a timer, `advanceBy` fires due timers in order and lets every
 * resulting promise settle (one setImmediate drains the whole microtask queue) before moving on.
 */
const virtualTime = (start = 1_000_000, lateness: readonly number[] = [0]) => {
  let clock = start;
  let sleeps = 0;
  let order = 0;
  const timers: { at: number; order: number; fire: () => void }[] = [];
  const schedule = (ms: number, fire: () => void) => {
    const timer = { at: clock + ms, order: order++, fire };
    timers.push(timer);
    return () => {
      const index = timers.indexOf(timer);
      if (index !== -1) timers.splice(index, 1);
    };
  };
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const advanceBy = async (ms: number) => {
    const until = clock + ms;
    for (;;) {
      await settle();
      timers.sort((a, b) => a.at - b.at || a.order - b.order);
      const next = timers[0];
      if (next === undefined || next.at > until) break;
      timers.shift();
      clock = Math.max(clock, next.at);
      next.fire();
    }
    clock = until;
    await settle();
  };
  return {
    now: () => clock,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        // Timers may fire late (a busy event loop); the bucket must not rely on punctuality.
        const late = lateness[sleeps++ % lateness.length] ?? 0;
        const cancel = schedule(ms + late, resolve);
        signal.addEventListener(
          'abort',
          () => {
            cancel();
            reject(signal.reason);
          },
          { once: true },
        );
      }),
    schedule,
    advanceBy,
    pendingTimers: () => timers.length,
  };
};

/** Acquires and records when (virtual time) each call settled and how. */
const recorder = (time: ReturnType<typeof virtualTime>) => {
  const granted: { label: string; at: number }[] = [];
  const refused: { label: string; error: unknown }[] = [];
  const track = (label: string, promise: Promise<void>) => {
    promise.then(
      () => granted.push({ label, at: time.now() }),
      (error: unknown) => refused.push({ label, error }),
    );
  };
  return { granted, refused, track };
};

describe('limit/token-bucket', () => {
  it('grants a burst at once, then one permit per 1000/rate ms', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 2, ...time });
    const { granted, track } = recorder(time);
    for (const label of ['a', 'b', 'c', 'd', 'e']) track(label, bucket.acquire());
    await time.advanceBy(1000);
    expect(granted).toEqual([
      { label: 'a', at: 0 },
      { label: 'b', at: 0 },
      { label: 'c', at: 100 },
      { label: 'd', at: 200 },
      { label: 'e', at: 300 },
    ]);
  });

  it('defaults to a burst of 1, so even the first calls are spaced', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 20, ...time });
    const { granted, track } = recorder(time);
    for (const label of ['a', 'b', 'c']) track(label, bucket.acquire());
    await time.advanceBy(1000);
    expect(granted.map((g) => g.at)).toEqual([0, 50, 100]);
  });

  it('refills while idle but never beyond the burst', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 3, ...time });
    const { granted, track } = recorder(time);
    for (const label of ['a', 'b', 'c']) track(label, bucket.acquire());
    await time.advanceBy(60_000);
    for (const label of ['d', 'e', 'f', 'g']) track(label, bucket.acquire());
    await time.advanceBy(1000);
    expect(granted.slice(3).map((g) => g.at)).toEqual([60_000, 60_000, 60_000, 60_100]);
  });

  it('refuses at once with retryAfterMs when the wait would exceed maxWaitMs', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, ...time });
    const { granted, refused, track } = recorder(time);
    track('a', bucket.acquire());
    track('b', bucket.acquire());
    track('c', bucket.acquire({ maxWaitMs: 150 }));
    track('d', bucket.acquire({ maxWaitMs: 200 }));
    await time.advanceBy(0);
    expect(refused.map((r) => r.label)).toEqual(['c']);
    const error = refused[0]?.error;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      statusCode: 429,
      retryAfterMs: 200,
      headers: { 'retry-after': '1' },
    });
    await time.advanceBy(1000);
    // The refused caller took no place in the queue: d is served right after b.
    expect(granted).toEqual([
      { label: 'a', at: 0 },
      { label: 'b', at: 100 },
      { label: 'd', at: 200 },
    ]);
  });

  it('rejects an aborted waiter with the abort reason and gives its turn to the next', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, ...time });
    const { granted, refused, track } = recorder(time);
    const controller = new AbortController();
    track('a', bucket.acquire());
    track('b', bucket.acquire({ signal: controller.signal }));
    track('c', bucket.acquire());
    await time.advanceBy(50);
    const reason = new Error('deadline');
    controller.abort(reason);
    await time.advanceBy(1000);
    expect(refused).toEqual([{ label: 'b', error: reason }]);
    expect(granted).toEqual([
      { label: 'a', at: 0 },
      { label: 'c', at: 100 },
    ]);
  });

  it('rejects at once when the signal is already aborted, without using a permit', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 10, ...time });
    const { granted, refused, track } = recorder(time);
    track('a', bucket.acquire({ signal: AbortSignal.abort(new Error('gone')) }));
    track('b', bucket.acquire());
    await time.advanceBy(0);
    expect(refused.map((r) => r.label)).toEqual(['a']);
    expect(granted).toEqual([{ label: 'b', at: 0 }]);
  });

  it('leaves no timer behind when every waiter gives up', async () => {
    const time = virtualTime(0);
    const bucket = createTokenBucket({ ratePerSecond: 1, ...time });
    const controller = new AbortController();
    const { refused, track } = recorder(time);
    track('a', bucket.acquire());
    track('b', bucket.acquire({ signal: controller.signal }));
    await time.advanceBy(0);
    expect(time.pendingTimers()).toBe(1);
    controller.abort();
    await time.advanceBy(0);
    expect(refused.map((r) => r.label)).toEqual(['b']);
    expect(time.pendingTimers()).toBe(0);
  });

  it('waits on real timers by default', async () => {
    const bucket = createTokenBucket({ ratePerSecond: 1000, now: Date.now });
    await expect(Promise.all([bucket.acquire(), bucket.acquire()])).resolves.toEqual([
      undefined,
      undefined,
    ]);
  });

  it.each([
    [{ ratePerSecond: 0 }],
    [{ ratePerSecond: Number.POSITIVE_INFINITY }],
    [{ ratePerSecond: 5, burst: 0 }],
    [{ ratePerSecond: 5, burst: 1.5 }],
  ])('rejects the settings %j', (settings) => {
    expect(() => createTokenBucket({ ...settings, now: () => 0 })).toThrow(RangeError);
  });

  describe('properties', () => {
    const request = fc.record({
      gapMs: fc.integer({ min: 0, max: 400 }),
      maxWaitMs: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
      abortAfterMs: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
    });

    it('grants at most burst + rate × T in any window T, in request order, even with late timers', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 50 }),
          fc.integer({ min: 1, max: 4 }),
          fc.array(request, { minLength: 1, maxLength: 40 }),
          fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 5 }),
          async (rate, burst, requests, lateness) => {
            const time = virtualTime(1_000_000, lateness);
            const bucket = createTokenBucket({ ratePerSecond: rate, burst, ...time });
            const { granted, refused, track } = recorder(time);
            for (const [index, r] of requests.entries()) {
              await time.advanceBy(r.gapMs);
              const controller = new AbortController();
              if (r.abortAfterMs !== undefined) {
                time.schedule(r.abortAfterMs, () => controller.abort());
              }
              track(
                String(index),
                bucket.acquire({
                  signal: controller.signal,
                  ...(r.maxWaitMs === undefined ? {} : { maxWaitMs: r.maxWaitMs }),
                }),
              );
            }
            await time.advanceBy(requests.length * 1000 + 10_000);

            expect(granted.length + refused.length).toBe(requests.length);
            const order = granted.map((g) => Number(g.label));
            expect(order).toEqual([...order].sort((a, b) => a - b));
            for (let i = 0; i < granted.length; i += 1) {
              for (let j = i; j < granted.length; j += 1) {
                const window = (granted[j]?.at ?? 0) - (granted[i]?.at ?? 0);
                expect(j - i + 1).toBeLessThanOrEqual(burst + (rate * window) / 1000 + 1e-9);
              }
            }
            for (const { label, error } of refused) {
              if (error instanceof RateLimitedError) {
                const maxWaitMs = requests[Number(label)]?.maxWaitMs ?? Number.POSITIVE_INFINITY;
                expect(error.retryAfterMs).toBeGreaterThan(maxWaitMs);
              }
            }
          },
        ),
        { numRuns: 150 },
      );
    });

    it('grants a caller that may wait long enough within the wait it was promised', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 50 }),
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 0, max: 2000 }),
          async (rate, burst, gaps, maxWaitMs) => {
            const time = virtualTime();
            const bucket = createTokenBucket({ ratePerSecond: rate, burst, ...time });
            const asked: number[] = [];
            const { granted, refused, track } = recorder(time);
            for (const [index, gap] of gaps.entries()) {
              await time.advanceBy(gap);
              asked[index] = time.now();
              track(String(index), bucket.acquire({ maxWaitMs }));
            }
            await time.advanceBy(gaps.length * 1000 + 10_000);
            expect(granted.length + refused.length).toBe(gaps.length);
            // Rounding to whole milliseconds may add up to 1 ms per caller ahead in the queue.
            for (const { label, at } of granted) {
              const index = Number(label);
              expect(at - (asked[index] ?? 0)).toBeLessThanOrEqual(maxWaitMs + gaps.length);
            }
          },
        ),
        { numRuns: 100 },
      );
    });
  });
});
