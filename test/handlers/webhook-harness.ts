import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { PlannedUpdate } from '../../lib/ciam/apply.ts';
import { parseConfig } from '../../lib/config/load.ts';
import type { Connection } from '../../lib/config/types.ts';
import type { Deliver } from '../../lib/delivery/delivery.ts';
import { MAX_BODY_BYTES } from '../../lib/http/request.ts';
import { createFileSecretSource } from '../../lib/secrets/file.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import { createHandler, type WebhookDeps } from '../../lib/webhook/handler.ts';
import { prepareConnections } from '../../lib/webhook/prepare.ts';
import { fakeContext } from '../helpers/context.ts';
import { type BodyInput, withHeaders, withoutHeaders } from '../helpers/events.ts';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { readJson } from '../helpers/files.ts';

/**
 * `createHandler` with real parts (config, file secrets, prepared sources and mappers, a real
 * Okta over HTTP) and a recording fake in place of CIAM delivery.
 */

/** The injected clock: the fixtures' own time, a few seconds after they were sent. */
export const NOW = Date.parse('2025-01-01T00:00:05.000Z');

export const OKTA_API_TOKEN = '00demoOktaApiToken';
/**
 * A second HMAC connection that signs a timestamp header (replay window) and filters on an event
 * type header (ignored events); the demo one has neither.
 */
export const HMAC_TS_CONNECTION = 'hmac-ts';
export const HMAC_TS_HEADER = 'x-webhook-timestamp';
export const HMAC_TYPE_HEADER = 'x-webhook-event';

export interface DeliverCall {
  connection: Connection;
  updates: PlannedUpdate[];
  signal: AbortSignal | undefined;
}

export interface Reply {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Record<string, unknown>;
  text: string;
}

export interface Harness {
  okta: FakeOkta;
  deliveries: DeliverCall[];
  outcomes: Array<{ connectionId: string; outcome: string; count: number }>;
  /** Runs one event through a fresh chain; `deps` replaces parts (deliver, logger, now). */
  invoke(
    event: APIGatewayProxyEventV2,
    deps?: Partial<WebhookDeps>,
    context?: Context,
  ): Promise<Reply>;
  /** Forgets what was recorded, and the fake Okta answers normally again. */
  reset(): void;
  close(): Promise<void>;
}

/** CIAM as seen by the handler: every planned update applied to user `ciam-1`. */
export const appliedDeliver: Deliver = async (_connection, updates) => ({
  results: updates.map((planned) => ({
    status: 'applied' as const,
    eventId: planned.change.eventId,
    userId: 'ciam-1',
    requestId: 'req-1',
  })),
});

export const failingDeliver =
  (error: unknown): Deliver =>
  async () => {
    throw error;
  };

const testConfig = (oktaOrgUrl: string): unknown => {
  const config = readJson<Record<string, unknown>>('config/local.json');
  const connections = config.connections as Array<Record<string, unknown>>;
  const hmac = connections.find((connection) => connection.id === 'hmac') ?? {};
  return {
    ...config,
    connections: [
      ...connections,
      {
        id: 'okta',
        source: 'okta',
        userStoreId: 'local-store',
        secrets: {
          signing: [{ name: 'ciam-webhook-adapter/okta', key: 'hookSecret' }],
          apiToken: { name: 'ciam-webhook-adapter/okta', key: 'apiToken' },
        },
        resolve: { by: 'indexedAttribute', index: 1 },
        mapping: {},
        delivery: 'sync',
        options: { orgUrl: oktaOrgUrl },
      },
      {
        ...hmac,
        id: HMAC_TS_CONNECTION,
        options: {
          ...(hmac.options as Record<string, unknown>),
          timestampHeader: HMAC_TS_HEADER,
          toleranceSeconds: 300,
          eventTypeHeader: HMAC_TYPE_HEADER,
          eventTypes: ['user.updated'],
        },
      },
    ],
  };
};

const lowerCased = (headers: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );

const startHarness = async (): Promise<Harness> => {
  const okta = await startFakeOkta({
    apiToken: OKTA_API_TOKEN,
    users: [
      oktaUser('ext-bob', {
        login: 'bob@example.com',
        email: 'bob@example.com',
        firstName: 'Bob',
        lastName: 'Baker',
        mobilePhone: '+65 9123 4562',
      }),
      oktaUser('ext-dave', {
        login: 'dave@example.com',
        email: 'dave@example.com',
        firstName: 'Dave',
        lastName: 'Dunn',
        nickName: 'davey',
      }),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'webhook-chain-'));
  const secretsPath = join(dir, 'secrets.json');
  writeFileSync(
    secretsPath,
    JSON.stringify({
      ...readJson<Record<string, unknown>>('config/local-secrets.json'),
      'ciam-webhook-adapter/okta': {
        hookSecret: 'demo-okta-hook-secret',
        apiToken: OKTA_API_TOKEN,
      },
    }),
  );
  const config = parseConfig(testConfig(okta.orgUrl));
  const connections = prepareConnections(config, SOURCES, { queued: true });
  const secrets = createFileSecretSource({ path: secretsPath });
  const deliveries: DeliverCall[] = [];
  const outcomes: Harness['outcomes'] = [];

  return {
    okta,
    deliveries,
    outcomes,
    invoke: async (event, deps = {}, context = fakeContext()) => {
      const deliver = deps.deliver ?? appliedDeliver;
      const handler = createHandler({
        connections,
        secrets,
        fetch: globalThis.fetch,
        now: () => NOW,
        logger: new Logger({ logLevel: 'SILENT' }),
        ...deps,
        // Always recorded, whichever fake answers, so "never delivered" holds for every variant.
        deliver: async (connection, updates, options) => {
          deliveries.push({ connection, updates: [...updates], signal: options.signal });
          return deliver(connection, updates, options);
        },
        recordOutcome: (connectionId, outcome, count) => {
          outcomes.push({ connectionId, outcome, count });
          deps.recordOutcome?.(connectionId, outcome, count);
        },
      });
      // Middy rewrites `event.body` (parsed JSON) and headers; tests keep the event they built.
      const result = await handler(structuredClone(event), context);
      const text = result.body ?? '';
      return {
        status: result.statusCode ?? 0,
        headers: lowerCased(result.headers),
        body: JSON.parse(text) as Record<string, unknown>,
        text,
      };
    },
    reset: () => {
      deliveries.length = 0;
      outcomes.length = 0;
      okta.requests.length = 0;
      okta.behave('ok');
    },
    close: async () => {
      await okta.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * The harness for one test file: started before its tests, closed after them, and reset before
 * each. The returned object forwards to the running harness, so tests use it as they would the
 * harness itself.
 */
export const useHarness = (): Harness => {
  let started: Harness | undefined;
  const running = (): Harness => {
    if (started === undefined) throw new Error('the webhook harness is used outside a test');
    return started;
  };
  beforeAll(async () => {
    started = await startHarness();
  });
  afterAll(async () => started?.close());
  beforeEach(() => running().reset());
  return {
    get okta() {
      return running().okta;
    },
    get deliveries() {
      return running().deliveries;
    },
    get outcomes() {
      return running().outcomes;
    },
    invoke: (...args) => running().invoke(...args),
    reset: () => running().reset(),
    close: () => running().close(),
  };
};

/** One entry of a bad-input corpus: refused with `status`/`code`, never delivered. */
export interface BadInput {
  name: string;
  event: () => APIGatewayProxyEventV2;
  status: number;
  code: string;
  /** JSON Pointers that must appear in `details` (ajv paths). */
  paths?: string[];
}

export const expectRefused = (
  reply: Reply,
  status: number,
  code: string,
  paths: readonly string[] = [],
): void => {
  expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
  expect(reply.headers['content-type']).toBe('application/json');
  expect(typeof reply.body.message).toBe('string');
  if (paths.length > 0) {
    const details = reply.body.details as Array<{ path: string }>;
    expect(details.map((detail) => detail.path)).toEqual(expect.arrayContaining([...paths]));
  }
};

const withoutBody = (event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 => {
  const { body: _body, ...rest } = event;
  return rest;
};

/**
 * Inputs every source must refuse the same way, each signed the way `sign` signs so the refusal
 * comes from the stage under test rather than from authentication.
 */
export const commonBadInputs = (sign: (body: BodyInput) => APIGatewayProxyEventV2): BadInput[] => {
  const oversized = `{"pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`;
  return [
    {
      name: 'malformed JSON',
      event: () => sign('{"type":"user.updated",'),
      status: 400,
      code: 'PAYLOAD_INVALID',
    },
    { name: 'an empty body', event: () => sign(''), status: 400, code: 'PAYLOAD_INVALID' },
    {
      name: 'no body at all',
      event: () => withoutBody(sign('')),
      status: 400,
      code: 'PAYLOAD_INVALID',
    },
    { name: 'JSON null', event: () => sign('null'), status: 400, code: 'PAYLOAD_INVALID' },
    { name: 'a JSON array', event: () => sign('[1,2]'), status: 400, code: 'PAYLOAD_INVALID' },
    { name: 'a JSON string', event: () => sign('"user"'), status: 400, code: 'PAYLOAD_INVALID' },
    {
      name: 'deeply nested arrays',
      event: () => sign(`${'['.repeat(50_000)}${']'.repeat(50_000)}`),
      status: 400,
      code: 'PAYLOAD_INVALID',
    },
    {
      name: 'a text/plain content type',
      event: () => withHeaders(sign('{}'), { 'content-type': 'text/plain' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a form content type',
      event: () => withHeaders(sign('{}'), { 'content-type': 'application/x-www-form-urlencoded' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'no content type',
      event: () => withoutHeaders(sign('{}'), 'content-type'),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'a body over 256 KB',
      event: () => sign(oversized),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a base64 body over 256 KB',
      event: () => sign(Buffer.from(oversized, 'utf8')),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'invalid UTF-8 in a base64 body',
      event: () => sign(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
      status: 400,
      code: 'PAYLOAD_INVALID',
    },
  ];
};
