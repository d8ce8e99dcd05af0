import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { ConfigError } from '../lib/errors.ts';
import { ApiError } from './api-error.ts';
import {
  checkFaultOptions,
  type FaultController,
  FaultInjector,
  type FaultOptions,
} from './faults.ts';
import { ACTION_PARAMS, parseParams } from './params.ts';
import { DEFAULT_SEED_PATH, loadSeed, type Seed } from './seed.ts';
import { CiamStore, DEFAULT_PHONE_REGEX, type StoreView } from './store.ts';
import { headerValue, verifyTc3Request } from './verify.ts';

export type { Fault, FaultController, FaultKind, FaultOptions } from './faults.ts';
export type { Seed, SeedCredential, SeedUser, SeedUserGroup, SeedUserStore } from './seed.ts';
export { loadSeed, parseSeed } from './seed.ts';
export type { StoreView } from './store.ts';

export const EMULATOR_VERSION = '2022-03-31';
export const EMULATOR_REGION = 'ap-singapore';
/** The largest body a TC3-signed POST may carry. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_ADMIN_BODY_BYTES = 64 * 1024;
const MAX_CALLS = 10_000;

/** Real CIAM actions the emulator does not implement: UnsupportedOperation, not InvalidAction. */
const UNEMULATED_ACTIONS = new Set([
  'CreateApiImportUserJob',
  'CreateFileExportUserJob',
  'CreateUserGroup',
  'CreateUserStore',
  'DeleteUserGroups',
  'DeleteUserStore',
  'DeleteUsers',
  'LinkAccount',
  'ListJobs',
  'ListLogMessageByCondition',
  'ListUserStore',
  'ResetPassword',
  'SetPassword',
  'UpdateUserGroup',
  'UpdateUserStore',
]);

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a random free port. */
  port?: number;
  /** Default: emulator/seed.json. */
  seed?: Seed;
  /** Requests per action per second (token bucket, burst = rate). Default 20; ≤ 0 or Infinity disables. */
  rateLimit?: number;
  /** Epoch ms; drives the signature window, the rate limiter and LastModifiedDate. */
  now?: () => number;
  /** Phone rule for FailedOperation.AttributeFormatError. Default: E.164 or mainland 11 digits. */
  phoneRegex?: string;
  faults?: FaultOptions;
  /** Allowed |now − X-TC-Timestamp|. Default 300. */
  maxSkewSeconds?: number;
  /**
   * Waits out an injected `latency` fault; `signal` aborts when the emulator closes. Default: a
   * real timer. A test that replaces it decides when a delayed call goes on, without timing.
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called once per API call (not for admin requests); `npm run emulator` logs from here. */
  onCall?: (call: EmulatorCall) => void;
  /**
   * Called with the parameters of every call the store carried out, in the order it did, even when
   * the caller had already given up waiting: what CIAM really wrote (for the soak's checks).
   */
  onApplied?: (action: string, params: Readonly<Record<string, unknown>>) => void;
}

export interface EmulatorCall {
  action: string;
  /** The SecretId the call was signed with, once its signature was read. */
  secretId?: string;
  /** The body's `UserStoreId`, when it names one. */
  userStoreId?: string;
  /** Error code of the answer, if it was an error; `http502` / `http503` / `drop` for transport faults. */
  code?: string;
  /** The injected fault, if any. */
  fault?: string;
  at: number;
  /** The request body exactly as received (UTF-8 text), to compare with what a client meant to send. */
  body: string;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Restores the seed, clears faults, the call log and the rate limiter. */
  reset(): void;
  /**
   * Resolves once no API call is being handled: every injected delay has run out and every call
   * received so far has been answered (or dropped), so whatever an abandoned attempt was going to
   * write is in the store. A call still on its way over the network is not waited for. Resolves
   * at once when nothing is pending, and after close() (which cuts pending delays short).
   */
  idle(): Promise<void>;
  faults: FaultController;
  readonly calls: ReadonlyArray<EmulatorCall>;
  /** Read-only copies of the store, for debugging and assertions. */
  store: StoreView;
}

class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: number;
  readonly #now: () => number;

  constructor(rate: number, now: () => number) {
    this.#rate = rate;
    this.#now = now;
  }

  take(key: string): boolean {
    if (!(this.#rate > 0) || !Number.isFinite(this.#rate)) return true;
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#rate, at: now };
    const refill = (Math.max(0, now - bucket.at) / 1000) * this.#rate;
    bucket.tokens = Math.min(this.#rate, bucket.tokens + refill);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  reset(): void {
    this.#buckets.clear();
  }
}

const readBody = (
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer; tooLarge: boolean }> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining past the limit so the client still receives the error answer.
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on('error', reject);
  });

const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
};

const sendText = (res: ServerResponse, status: number, text: string, headers = {}): void => {
  res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
  res.end(text);
};

const dispatch = (store: CiamStore, action: string, params: Record<string, unknown>) => {
  switch (action) {
    case 'UpdateUser':
      return { User: store.updateUser(params) };
    case 'CreateUser':
      return { User: store.createUser(params) };
    case 'DescribeUserById':
      return { User: store.describeUserById(params) };
    case 'UpdateUserStatus':
      store.updateUserStatus(params);
      return {};
    case 'ListUserByProperty':
      return { Users: store.listUserByProperty(params) };
    case 'DescribeUser':
      return store.describeUser(params);
    case 'ListUser':
      return store.listUser(params);
    case 'ListUserGroups':
      return store.listUserGroups(params);
    default:
      throw new ApiError('InvalidAction', `The requested action \`${action}\` does not exist.`);
  }
};

const checkHeaders = (req: IncomingMessage, action: string): void => {
  const version = headerValue(req.headers, 'x-tc-version');
  const region = headerValue(req.headers, 'x-tc-region');
  if (!action) {
    throw new ApiError('MissingParameter', 'The request is missing a required parameter `Action`.');
  }
  if (!version) {
    throw new ApiError(
      'MissingParameter',
      'The request is missing a required parameter `Version`.',
    );
  }
  if (version !== EMULATOR_VERSION) {
    throw new ApiError(
      'NoSuchVersion',
      `The requested version \`${version}\` of service \`ciam\` does not exist.`,
    );
  }
  if (UNEMULATED_ACTIONS.has(action)) {
    throw new ApiError('UnsupportedOperation', `The action \`${action}\` is not emulated.`);
  }
  if (!Object.hasOwn(ACTION_PARAMS, action)) {
    throw new ApiError('InvalidAction', `The requested action \`${action}\` does not exist.`);
  }
  if (!region) {
    throw new ApiError('MissingParameter', 'The request is missing a required parameter `Region`.');
  }
  if (region !== EMULATOR_REGION) {
    throw new ApiError(
      'UnsupportedRegion',
      `The action does not support this region; only ${EMULATOR_REGION} is supported.`,
    );
  }
};

const CLAIMED_SECRET_ID = /Credential=([^/\s,]{1,128})\//;

/** The body's UserStoreId, for the call log; undefined when the body is not JSON naming one. */
const userStoreIdOf = (body: Buffer): string | undefined => {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    const id =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>).UserStoreId
        : undefined;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
};

const checkContentType = (req: IncomingMessage): void => {
  const type = headerValue(req.headers, 'content-type') ?? '';
  if (type.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw new ApiError('InvalidParameter', 'Content-Type must be application/json.');
  }
};

export const startEmulator = async (options: EmulatorOptions = {}): Promise<Emulator> => {
  const now = options.now ?? Date.now;
  const seed = options.seed ?? loadSeed(DEFAULT_SEED_PATH);
  const phoneRegex = options.phoneRegex ?? DEFAULT_PHONE_REGEX;
  try {
    new RegExp(phoneRegex);
  } catch (cause) {
    throw new ConfigError('Emulator phoneRegex is not a valid regular expression', { cause });
  }
  const store = new CiamStore(seed, now, phoneRegex);
  const faults = new FaultInjector(options.faults ?? {});
  const limiter = new RateLimiter(options.rateLimit ?? 20, now);
  const credentials = new Map(seed.credentials.map((c) => [c.SecretId, c]));
  // Each store's account: a key of another account (TenantId) is answered as for an unknown store.
  const storeTenants = new Map(seed.userStores.map((s) => [s.UserStoreId, s.TenantId]));
  const notYours = (tenant: string | undefined, userStoreId: unknown): boolean => {
    if (tenant === undefined || typeof userStoreId !== 'string') return false;
    const owner = storeTenants.get(userStoreId);
    return owner !== undefined && owner !== tenant;
  };
  const calls: EmulatorCall[] = [];
  const pendingDelays = new Set<() => void>();
  const sleep = options.sleep ?? ((ms, signal) => wait(ms, undefined, { signal }));
  const closed = new AbortController();
  let closing = false;
  // API calls between their request arriving and the handler finishing (delays included).
  let handling = 0;
  let idleWaiters: Array<() => void> = [];

  const finishedHandling = (): void => {
    handling -= 1;
    if (handling > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const record = (
    action: string,
    body: Buffer,
    code: string | undefined,
    fault: string | undefined,
    who: { secretId?: string | undefined; userStoreId?: string | undefined },
  ): void => {
    const call: EmulatorCall = {
      action,
      ...(who.secretId === undefined ? {} : { secretId: who.secretId }),
      ...(who.userStoreId === undefined ? {} : { userStoreId: who.userStoreId }),
      at: now(),
      body: body.toString('utf8'),
      ...(code === undefined ? {} : { code }),
      ...(fault === undefined ? {} : { fault }),
    };
    calls.push(call);
    if (calls.length > MAX_CALLS) calls.splice(0, calls.length - MAX_CALLS);
    options.onCall?.(call);
  };

  // close() calls `done` to cut a pending delay short, even if an injected sleep ignores the signal.
  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        pendingDelays.delete(done);
        resolve();
      };
      pendingDelays.add(done);
      sleep(ms, closed.signal).then(done, done);
    });

  const reset = (): void => {
    store.reset();
    faults.clear();
    limiter.reset();
    calls.length = 0;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { body, tooLarge } = await readBody(req, MAX_BODY_BYTES);
    const action = headerValue(req.headers, 'x-tc-action')?.trim() ?? '';
    const requestId = randomUUID();
    let fault: string | undefined;
    const who: { secretId?: string; userStoreId?: string } = {};
    const storeId = userStoreIdOf(body);
    if (storeId !== undefined) who.userStoreId = storeId;
    // The key the caller signed with, even when it is unknown or its signature fails.
    const claimed = CLAIMED_SECRET_ID.exec(headerValue(req.headers, 'authorization') ?? '')?.[1];
    if (claimed !== undefined) who.secretId = claimed;
    try {
      if (tooLarge) {
        throw new ApiError(
          'RequestSizeLimitExceeded',
          `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
        );
      }
      const verified = verifyTc3Request({
        method: req.method ?? 'POST',
        headers: req.headers,
        body,
        nowMs: now(),
        lookupCredential: (id) => credentials.get(id),
        maxSkewSeconds: options.maxSkewSeconds ?? 300,
      });
      if (!verified.ok) throw new ApiError(verified.code, verified.message);
      who.secretId = verified.secretId;
      // CIAM's limit is per account and action: one tenant's burst never refuses another's calls.
      const tenant = credentials.get(verified.secretId)?.TenantId;
      checkHeaders(req, action);
      if (!limiter.take(`${tenant ?? ''}\u0000${action}`)) {
        throw new ApiError(
          'RequestLimitExceeded',
          'The number of requests exceeds the frequency limit.',
        );
      }
      const injected = faults.next(action, verified.secretId);
      if (injected) {
        fault = injected.kind === 'error' ? injected.code : injected.kind;
        if (injected.kind === 'drop') {
          record(action, body, 'drop', fault, who);
          req.socket.destroy();
          return;
        }
        if (injected.kind === 'http502') {
          record(action, body, 'http502', fault, who);
          res.writeHead(502, { 'Content-Type': 'text/html' });
          res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
          return;
        }
        if (injected.kind === 'http503') {
          record(action, body, 'http503', fault, who);
          res.writeHead(503, { 'Content-Type': 'text/html' });
          res.end('<html><body><h1>503 Service Unavailable</h1></body></html>');
          return;
        }
        if (injected.kind === 'error') {
          throw new ApiError(injected.code, `Injected fault: ${injected.code}.`);
        }
        await delay(injected.latencyMs);
        if (closing) return;
      }
      checkContentType(req);
      const params = parseParams(action, body);
      if (notYours(tenant, params.UserStoreId)) {
        throw new ApiError('FailedOperation.InvalidUserStore', 'The user pool is invalid.');
      }
      const data = dispatch(store, action, params);
      record(action, body, undefined, fault, who);
      options.onApplied?.(action, params);
      sendJson(res, 200, { Response: { ...data, RequestId: requestId } });
    } catch (error) {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError('InternalError', 'An internal error occurred.');
      record(action, body, apiError.code, fault, who);
      sendJson(res, 200, {
        Response: {
          Error: { Code: apiError.code, Message: apiError.message },
          RequestId: requestId,
        },
      });
    }
  };

  const handleAdmin = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> => {
    const route = `${req.method ?? 'GET'} ${path}`;
    switch (route) {
      case 'GET /__emulator/health':
        return sendJson(res, 200, { status: 'ok' });
      case 'GET /__emulator/calls':
        return sendJson(res, 200, { calls });
      case 'POST /__emulator/reset':
        await readBody(req, MAX_ADMIN_BODY_BYTES);
        reset();
        return sendJson(res, 200, { status: 'ok' });
      case 'GET /__emulator/faults':
        return sendJson(res, 200, faults.snapshot());
      case 'DELETE /__emulator/faults':
        faults.clear();
        return sendJson(res, 200, { status: 'ok', ...faults.snapshot() });
      case 'POST /__emulator/faults': {
        const { body, tooLarge } = await readBody(req, MAX_ADMIN_BODY_BYTES);
        try {
          if (tooLarge) throw new Error('fault options are too large');
          const text = body.toString('utf8').trim();
          const parsed: unknown = text === '' ? {} : JSON.parse(text);
          const checked = checkFaultOptions(parsed);
          if (checked.random !== undefined) throw new Error('random cannot be set over HTTP');
          faults.configure(checked);
        } catch (error) {
          return sendJson(res, 400, { error: (error as Error).message });
        }
        return sendJson(res, 200, { status: 'ok', ...faults.snapshot() });
      }
    }
    const known = ['health', 'calls', 'reset', 'faults'].some((p) => path === `/__emulator/${p}`);
    return known ? sendText(res, 405, 'Method Not Allowed') : sendText(res, 404, 'Not Found');
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    let work: Promise<void>;
    if (path.startsWith('/__emulator/')) {
      work = handleAdmin(req, res, path);
    } else if (path !== '/') {
      req.resume();
      work = Promise.resolve(sendText(res, 404, 'Not Found'));
    } else if (req.method !== 'POST') {
      req.resume();
      work = Promise.resolve(sendText(res, 405, 'Method Not Allowed', { Allow: 'POST' }));
    } else {
      handling += 1;
      work = handleApi(req, res).finally(finishedHandling);
    }
    work.catch(() => {
      // Only a broken client connection gets here (body read failed); nothing left to answer.
      req.socket.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    faults,
    store: {
      userStoreIds: () => store.userStoreIds(),
      listUsers: (userStoreId) => store.listUsers(userStoreId),
      getUser: (userStoreId, userId) => store.getUser(userStoreId, userId),
      listGroups: (userStoreId) => store.listGroups(userStoreId),
    },
    get calls() {
      return calls;
    },
    reset,
    idle: () =>
      handling === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        closed.abort();
        for (const release of [...pendingDelays]) release();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
