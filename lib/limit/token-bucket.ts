import { setTimeout as delay } from 'node:timers/promises';
import { AdapterError } from '../errors.ts';

export interface TokenBucketOptions {
  /** Steady rate at which permits are granted. */
  ratePerSecond: number;
  /**
   * Permits that may be granted back to back after a quiet spell. Default 1: CIAM's 20/s limit
   * counts bursts too, so evenly spaced calls (1000 / rate ms apart) are the safe shape; a larger
   * burst trades that for latency after idle periods.
   */
  burst?: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Waits `ms`; may reject once `signal` aborts. Default: a real timer. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Refuse at once (RateLimitedError) instead of waiting longer than this. */
  maxWaitMs?: number;
}

export interface TokenBucket {
  /** Resolves when the caller may make one call. Callers are served in the order they asked. */
  acquire(options?: AcquireOptions): Promise<void>;
}

/**
 * The limiter refused a caller whose deadline is too short to wait its turn. Shaped for the HTTP
 * answer (429 with Retry-After) and for the queue consumer (retry after `retryAfterMs`).
 */
export class RateLimitedError extends AdapterError {
  override readonly name = 'RateLimitedError';
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super('UPSTREAM_RATE_LIMITED', `Rate limit reached; retry in ${retryAfterMs} ms`, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      details: { retryAfterMs },
    });
    this.retryAfterMs = retryAfterMs;
  }
}

interface Waiter {
  resolve: () => void;
  /** Stops listening for the caller's abort once the permit is granted. */
  detach: () => void;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  delay(ms, undefined, { signal }).then(() => undefined);

/**
 * A token bucket whose waiters queue up (FIFO) rather than poll, so the granted rate never
 * exceeds `burst + rate × T` in any window T, however many callers wait. Time is read only
 * through `now` and passed only through `sleep`, which keeps it deterministic under a fake clock.
 */
export const createTokenBucket = ({
  ratePerSecond,
  burst = 1,
  now,
  sleep = defaultSleep,
}: TokenBucketOptions): TokenBucket => {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new RangeError('ratePerSecond must be a positive number');
  }
  if (!Number.isInteger(burst) || burst < 1) {
    throw new RangeError('burst must be an integer of at least 1');
  }
  const msPerToken = 1000 / ratePerSecond;
  let tokens = burst;
  let updatedAt = now();
  const waiters: Waiter[] = [];
  let pumping = false;
  // Aborted when the last waiter gives up, so an idle bucket leaves no timer behind.
  let idle = new AbortController();

  const refill = () => {
    const at = now();
    if (at > updatedAt) {
      tokens = Math.min(burst, tokens + (at - updatedAt) / msPerToken);
      updatedAt = at;
    }
  };

  const pump = async () => {
    pumping = true;
    try {
      while (waiters.length > 0) {
        refill();
        if (tokens >= 1) {
          tokens -= 1;
          const waiter = waiters.shift();
          waiter?.detach();
          waiter?.resolve();
          continue;
        }
        try {
          await sleep(Math.ceil((1 - tokens) * msPerToken), idle.signal);
        } catch {
          // Woken early because every waiter left; the loop condition ends the pump.
        }
      }
    } finally {
      pumping = false;
    }
  };

  const acquire = (options: AcquireOptions = {}): Promise<void> => {
    const { signal, maxWaitMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    refill();
    if (waiters.length === 0 && tokens >= 1) {
      tokens -= 1;
      return Promise.resolve();
    }
    // Everyone queued ahead needs a token first; tokens below 1 are already promised to them.
    const waitMs = Math.ceil((waiters.length + 1 - tokens) * msPerToken);
    if (maxWaitMs !== undefined && waitMs > maxWaitMs) {
      return Promise.reject(new RateLimitedError(waitMs));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = waiters.indexOf(waiter);
        if (index !== -1) waiters.splice(index, 1);
        if (waiters.length === 0) {
          idle.abort();
          idle = new AbortController();
        }
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
      if (!pumping) void pump();
    });
  };

  return { acquire };
};
