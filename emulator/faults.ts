/**
 * Fault injection. A fault is chosen per API call (after authentication and header checks, before
 * the body is parsed), and a faulted call never touches the store.
 */
import { ConfigError } from '../lib/errors.ts';

/** Transport-level faults; any other string is answered as that API error code (HTTP 200). */
export type TransportFault = 'http502' | 'http503' | 'latency' | 'drop';
export type FaultKind =
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'RequestLimitExceeded'
  | 'RequestLimitExceeded.RepeatRequest'
  | TransportFault
  | (string & {});

/** One script entry: a kind, a kind with its own latency, or no fault (`null` / `'none'`). */
export type Fault = FaultKind | { kind: FaultKind; latencyMs?: number } | null;

export interface FaultOptions {
  /** Consumed one entry per (matching) API call, in order; after it runs out `rates` apply. */
  script?: Fault[];
  /** Probability 0..1 per call for each kind; one draw per call picks at most one kind. */
  rates?: Partial<Record<FaultKind, number>>;
  /** Limit faults (script consumption included) to these actions. */
  actions?: string[];
  /**
   * Limit faults (script consumption included) to calls signed with these SecretIds: one tenant
   * fails while the others are served.
   */
  secretIds?: string[];
  /** Delay for `latency` faults without their own value. Default 1000 ms. */
  latencyMs?: number;
  /** Seed for the rate draws, so a run is reproducible (default 1). */
  seed?: number;
  /** Replaces the seeded generator (programmatic use only). */
  random?: () => number;
}

export type ResolvedFault =
  | { kind: 'http502' }
  | { kind: 'http503' }
  | { kind: 'drop' }
  | { kind: 'latency'; latencyMs: number }
  | { kind: 'error'; code: string };

export interface FaultController {
  /** Replaces the whole fault configuration and restarts the script. */
  configure(options: FaultOptions): void;
  clear(): void;
  /** Current configuration (without `random`) and how many script entries are left. */
  snapshot(): { options: Omit<FaultOptions, 'random'>; scriptRemaining: number };
}

const DEFAULT_LATENCY_MS = 1000;
const MAX_LATENCY_MS = 120_000;

/** mulberry32: tiny, deterministic, good enough to spread fault draws. */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const CODE_PATTERN = /^[A-Z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*$/;
const TRANSPORT = new Set(['http502', 'http503', 'latency', 'drop', 'none']);

/** Throws ConfigError naming the problem; the admin endpoint turns it into HTTP 400. */
export const checkFaultOptions = (value: unknown): FaultOptions => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('fault options must be a JSON object');
  }
  const allowed = new Set([
    'script',
    'rates',
    'actions',
    'secretIds',
    'latencyMs',
    'seed',
    'random',
  ]);
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) throw new ConfigError(`unknown fault option ${key}`);
  }
  const checkKind = (kind: unknown, where: string): void => {
    if (typeof kind !== 'string' || !(TRANSPORT.has(kind) || CODE_PATTERN.test(kind))) {
      throw new ConfigError(
        `${where}: fault kind must be http502, http503, latency, drop or an API error code`,
      );
    }
  };
  const checkLatency = (ms: unknown, where: string): void => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_LATENCY_MS) {
      throw new ConfigError(`${where}: latencyMs must be a number between 0 and ${MAX_LATENCY_MS}`);
    }
  };
  if (options.script !== undefined) {
    if (!Array.isArray(options.script)) throw new ConfigError('script must be an array');
    options.script.forEach((entry: unknown, i) => {
      if (entry === null || entry === 'none') return;
      if (typeof entry === 'object') {
        const { kind, latencyMs, ...rest } = entry as Record<string, unknown>;
        if (Object.keys(rest).length > 0) throw new ConfigError(`script[${i}]: unknown keys`);
        checkKind(kind, `script[${i}]`);
        if (latencyMs !== undefined) checkLatency(latencyMs, `script[${i}]`);
        return;
      }
      checkKind(entry, `script[${i}]`);
    });
  }
  if (options.rates !== undefined) {
    if (typeof options.rates !== 'object' || options.rates === null) {
      throw new ConfigError('rates must be an object');
    }
    let total = 0;
    for (const [kind, rate] of Object.entries(options.rates)) {
      checkKind(kind, `rates.${kind}`);
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
        throw new ConfigError(`rates.${kind} must be a number between 0 and 1`);
      }
      total += rate;
    }
    if (total > 1 + 1e-9) throw new ConfigError('rates must add up to at most 1');
  }
  if (options.actions !== undefined) {
    if (!Array.isArray(options.actions) || options.actions.some((a) => typeof a !== 'string')) {
      throw new ConfigError('actions must be an array of strings');
    }
  }
  if (options.secretIds !== undefined) {
    if (
      !Array.isArray(options.secretIds) ||
      options.secretIds.some((id) => typeof id !== 'string')
    ) {
      throw new ConfigError('secretIds must be an array of strings');
    }
  }
  if (options.latencyMs !== undefined) checkLatency(options.latencyMs, 'latencyMs');
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new ConfigError('seed must be an integer');
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw new ConfigError('random must be a function');
  }
  return options as FaultOptions;
};

const resolve = (fault: Fault, defaultLatency: number): ResolvedFault | undefined => {
  if (fault === null || fault === 'none') return undefined;
  const kind = typeof fault === 'object' ? fault.kind : fault;
  if (kind === 'none') return undefined;
  if (kind === 'http502') return { kind: 'http502' };
  if (kind === 'http503') return { kind: 'http503' };
  if (kind === 'drop') return { kind: 'drop' };
  if (kind === 'latency') {
    const own = typeof fault === 'object' ? fault.latencyMs : undefined;
    return { kind: 'latency', latencyMs: own ?? defaultLatency };
  }
  return { kind: 'error', code: kind };
};

export class FaultInjector implements FaultController {
  #options: FaultOptions = {};
  #cursor = 0;
  #random: () => number = seededRandom(1);

  constructor(options: FaultOptions = {}) {
    this.configure(options);
  }

  configure(options: FaultOptions): void {
    const checked = checkFaultOptions(options);
    this.#options = { ...checked, ...(checked.script ? { script: [...checked.script] } : {}) };
    this.#cursor = 0;
    this.#random = checked.random ?? seededRandom(checked.seed ?? 1);
  }

  clear(): void {
    this.configure({});
  }

  snapshot(): { options: Omit<FaultOptions, 'random'>; scriptRemaining: number } {
    const { random: _random, ...options } = this.#options;
    const scriptRemaining = Math.max(0, (options.script?.length ?? 0) - this.#cursor);
    return { options: structuredClone(options), scriptRemaining };
  }

  /** Picks the fault for one API call, consuming a script entry or a random draw. */
  next(action: string, secretId?: string): ResolvedFault | undefined {
    const { script, rates, actions, secretIds } = this.#options;
    if (actions && !actions.includes(action)) return undefined;
    if (secretIds && (secretId === undefined || !secretIds.includes(secretId))) return undefined;
    const latency = this.#options.latencyMs ?? DEFAULT_LATENCY_MS;
    if (script && this.#cursor < script.length) {
      const entry = script[this.#cursor] ?? null;
      this.#cursor += 1;
      return resolve(entry, latency);
    }
    if (!rates) return undefined;
    const draw = this.#random();
    let cumulative = 0;
    for (const [kind, rate] of Object.entries(rates)) {
      cumulative += rate ?? 0;
      if (draw < cumulative) return resolve(kind, latency);
    }
    return undefined;
  }
}
