import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Deliver } from '../../lib/delivery/delivery.ts';
import { AdapterError } from '../../lib/errors.ts';
import { UpstreamError } from '../../lib/tencent/errors.ts';
import { fakeContext } from '../helpers/context.ts';
import {
  auth0Event,
  clerkEvent,
  DEMO_SECRETS,
  forConnection,
  hmacEvent,
  oktaEvent,
  withHeaders,
  withMethod,
} from '../helpers/events.ts';
import {
  expectRefused,
  failingDeliver,
  NOW,
  OKTA_API_TOKEN,
  useHarness,
} from './webhook-harness.ts';

const harness = useHarness();

const clerk = (body?: Parameters<typeof clerkEvent>[0]) => clerkEvent(body, { now: NOW });
const hmac = (body?: Parameters<typeof hmacEvent>[0]) =>
  hmacEvent(body, { now: NOW, eventId: 'evt-1' });

// Per-source status codes (401/400/404/405/413/415, ignored, base64): source-contract.test.ts.
describe('webhook handler: routing and methods', () => {
  it('answers 404 when the route has no connection id', async () => {
    const { pathParameters: _path, ...event } = clerk();
    const reply = await harness.invoke(event);
    expectRefused(reply, 404, 'CONNECTION_NOT_FOUND');
  });

  it('does not resolve connection ids through Object.prototype', async () => {
    const reply = await harness.invoke(forConnection(clerk(), '__proto__'));
    expectRefused(reply, 404, 'CONNECTION_NOT_FOUND');
  });

  it('refuses an unknown connection before looking at the method', async () => {
    const reply = await harness.invoke(withMethod(forConnection(clerk(), 'nope'), 'PUT'));
    expectRefused(reply, 404, 'CONNECTION_NOT_FOUND');
  });
});

describe('webhook handler: headers and media types', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'application/cloudevents+json',
    'application/vnd.example+json; version=2',
  ])('accepts content type %s', async (contentType) => {
    const reply = await harness.invoke(withHeaders(hmac(), { 'content-type': contentType }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'applied' });
  });

  // Media types are case-insensitive (RFC 9110 §8.3.1); middy's parser pattern is not, so the
  // chain disables it behind its own check. These once came back as "malformed JSON".
  it.each(['Application/JSON', 'application/json ; charset=utf-8', 'application/json;'])(
    'accepts content type %s, however it is spelled',
    async (contentType) => {
      const reply = await harness.invoke(withHeaders(hmac(), { 'content-type': contentType }));
      expect(reply.status).toBe(200);
    },
  );

  it.each(['application/jsonp', 'text/json', 'application/json-patch', 'multipart/form-data'])(
    'refuses content type %s with 415',
    async (contentType) => {
      const reply = await harness.invoke(withHeaders(hmac(), { 'content-type': contentType }));
      expectRefused(reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(harness.deliveries).toHaveLength(0);
    },
  );
});

describe('webhook handler: delivery outcomes', () => {
  const upstream = (upstreamCode: string) =>
    failingDeliver(
      new UpstreamError({ upstreamCode, action: 'UpdateUser', requestId: 'tc-req-9' }),
    );

  it('maps a conflict from CIAM to 409 UPSTREAM_CONFLICT with upstreamCode and requestId', async () => {
    const reply = await harness.invoke(clerk(), {
      deliver: upstream('FailedOperation.EmailAlreadyExists'),
    });
    expectRefused(reply, 409, 'UPSTREAM_CONFLICT');
    expect(reply.body).toMatchObject({
      upstreamCode: 'FailedOperation.EmailAlreadyExists',
      requestId: 'tc-req-9',
    });
    expect(harness.deliveries).toHaveLength(1);
    expect(harness.outcomes).toEqual([
      { connectionId: 'clerk', outcome: 'UPSTREAM_CONFLICT', count: 1 },
    ]);
  });

  it('maps rate limiting to 429 with Retry-After', async () => {
    const reply = await harness.invoke(clerk(), {
      deliver: upstream('RequestLimitExceeded.UinLimitExceeded'),
    });
    expect(reply.status).toBe(429);
    expect(reply.body).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      upstreamCode: 'RequestLimitExceeded.UinLimitExceeded',
    });
    expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
  });

  it.each(['InternalError', 'ServiceUnavailable', 'TIMEOUT', 'HTTP_502'])(
    'maps %s to 503 UPSTREAM_UNAVAILABLE with Retry-After',
    async (code) => {
      const reply = await harness.invoke(hmac(), { deliver: upstream(code) });
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamCode: code });
      expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
      expect(harness.outcomes).toEqual([
        { connectionId: 'hmac', outcome: 'UPSTREAM_UNAVAILABLE', count: 1 },
      ]);
    },
  );

  it('passes on USER_NOT_FOUND from resolution as 404', async () => {
    const reply = await harness.invoke(hmac(), {
      deliver: failingDeliver(new AdapterError('USER_NOT_FOUND', 'No CIAM user matches')),
    });
    expectRefused(reply, 404, 'USER_NOT_FOUND');
  });

  it('answers 500 INTERNAL without internals when delivery throws a plain Error', async () => {
    const reply = await harness.invoke(clerk(), {
      deliver: failingDeliver(new TypeError('Cannot read properties of undefined (reading x)')),
    });
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'INTERNAL', message: 'Internal error' });
    expect(reply.text).not.toMatch(/TypeError|reading x|at .*\.ts/);
    expect(harness.outcomes).toEqual([{ connectionId: 'clerk', outcome: 'INTERNAL', count: 1 }]);
  });

  it('hides the message and details of an unexposed AdapterError', async () => {
    const reply = await harness.invoke(clerk(), {
      deliver: failingDeliver(
        new AdapterError('INTERNAL', 'secret ciam-creds is gone', {
          details: { name: 'ciam-creds' },
        }),
      ),
    });
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'INTERNAL', message: 'Internal error' });
  });

  it('answers 503 with Retry-After and aborts delivery when the Lambda deadline nears', async () => {
    let seen: AbortSignal | undefined;
    const hanging: Deliver = (_connection, _updates, options) =>
      new Promise((_resolve, reject) => {
        seen = options.signal;
        options.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const reply = await harness.invoke(
      clerk(),
      { deliver: hanging },
      fakeContext({ remainingMs: 800 }),
    );
    expectRefused(reply, 503, 'DEADLINE_EXCEEDED');
    expect(reply.headers['retry-after']).toBe('5');
    expect(seen?.aborted).toBe(true);
  });

  it('parses the very bytes that were verified, not a second decoding of the event body', async () => {
    // A lone surrogate cannot be encoded as UTF-8: the bytes (and so the signature) carry U+FFFD
    // in its place. Parsing `event.body` itself would hand the mapping a value nobody signed.
    const text = '{"id":"ext-carol","name":"Carol \uD800"}';
    const signed = hmacEvent(Buffer.from(text, 'utf8'), { now: NOW, eventId: 'evt-1' });
    const reply = await harness.invoke({ ...signed, body: text, isBase64Encoded: false });
    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates[0]?.draft.Nickname).toBe('Carol \uFFFD');
  });

  it('delivers once per request and passes the abort signal along', async () => {
    const reply = await harness.invoke(clerk());
    expect(reply.status).toBe(200);
    expect(harness.deliveries).toHaveLength(1);
    expect(harness.deliveries[0]?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('webhook handler: logging', () => {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };
  beforeEach(() => {
    written.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => vi.restoreAllMocks());

  const debugLogger = () => new Logger({ serviceName: 'chain-test', logLevel: 'DEBUG' });

  /** Everything personal or secret the requests below carry, in the forms it could be logged. */
  const forbidden = [
    'alice@example.com',
    'alice.old@example.org',
    'bob@example.com',
    '+6591234562',
    '+6591234561',
    '91234561',
    'carol@example.com',
    '+6591234563',
    'not-a-phone',
    ...Object.values(DEMO_SECRETS),
    DEMO_SECRETS.clerk.slice('whsec_'.length),
    OKTA_API_TOKEN,
    'localdemosecret',
  ];

  const expectNoPersonalData = (lines: string[]) => {
    const all = lines.join('\n');
    for (const value of forbidden) expect(all).not.toContain(value);
  };

  it('logs applied requests at DEBUG without personal data or secrets', async () => {
    const logger = debugLogger();
    const okta = await harness.invoke(oktaEvent(), { logger });
    expect(okta.status).toBe(200);
    const reply = await harness.invoke(clerk(), { logger });
    expect(reply.status).toBe(200);
    // The capture works: the outcome line is there, with the event id and connection.
    const processed = written.filter((line) => line.includes('webhook processed'));
    expect(processed).toHaveLength(2);
    expect(processed[0]).toContain('"connectionId":"okta"');
    expect(processed[1]).toContain('"connectionId":"clerk"');
    expect(processed[1]).toContain('msg_2demoAliceUserUpdated01');
    expectNoPersonalData(written);
  });

  it('logs refused requests without personal data or secrets', async () => {
    const logger = debugLogger();
    const refusals = [
      await harness.invoke(
        hmac({ id: 'ext-carol', email: 'carol@example.com', phone: 'not-a-phone' }),
        { logger },
      ),
      await harness.invoke(withHeaders(clerk(), { 'svix-signature': 'v1,AAAA' }), { logger }),
      await harness.invoke(auth0Event(undefined, { secret: DEMO_SECRETS.hmac }), { logger }),
      await harness.invoke(
        hmac({ id: 'ext-carol', email: 'carol@example.com', extra: '+6591234563' }),
        { logger },
      ),
    ];
    expect(refusals.map((reply) => reply.status)).toEqual([422, 401, 401, 400]);
    expect(written.filter((line) => line.includes('webhook refused'))).toHaveLength(4);
    expectNoPersonalData(written);
  });

  it('logs an upstream failure with its code but without personal data', async () => {
    const reply = await harness.invoke(clerk(), {
      logger: debugLogger(),
      deliver: failingDeliver(
        new UpstreamError({
          upstreamCode: 'InternalError',
          action: 'UpdateUser',
          requestId: 'r-1',
        }),
      ),
    });
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(written.filter((line) => line.includes('"upstreamCode":"InternalError"'))).toHaveLength(
      1,
    );
    expectNoPersonalData(written);
  });
});

describe('webhook handler: arbitrary bodies (property)', () => {
  const ALLOWED = new Set(['id', 'email', 'phone', 'name']);

  /** What the demo HMAC connection's payload schema accepts, written independently of ajv. */
  const couldBeValid = (bytes: Uint8Array): boolean => {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      return false;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    return (
      typeof record.id === 'string' &&
      record.id.length > 0 &&
      Object.keys(record).every((key) => ALLOWED.has(key)) &&
      Object.values(record).every((entry) => typeof entry === 'string')
    );
  };

  const text = fc.string({ unit: 'grapheme', maxLength: 40 });
  const valid = fc.record(
    {
      id: fc.string({ minLength: 1, maxLength: 40 }).filter((id) => id.trim() !== ''),
      email: fc.emailAddress(),
      phone: fc.constantFrom('+6591234563', '+65 9123 4563', '+1 202-555-0143'),
      name: fc.string({ unit: 'grapheme', maxLength: 40 }),
    },
    { requiredKeys: ['id'] },
  );
  const payloadLike = fc.record(
    {
      id: fc.oneof(text, fc.integer(), fc.constant('')),
      email: fc.oneof(fc.emailAddress(), text),
      phone: fc.oneof(
        fc.constantFrom(
          '+6591234563',
          '+65 9123 4563',
          '+1 202-555-0143',
          '123',
          '+65 9123 4563 x9',
        ),
        text,
      ),
      name: fc.oneof(text, fc.constant(null)),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  // Spliced into the text: an object literal cannot carry `__proto__` as an own key.
  const withProto = (json: string) =>
    json === '{}'
      ? '{"__proto__":{"polluted":true}}'
      : json.replace('{', '{"__proto__":{"polluted":true},');
  const bodies = fc.oneof(
    valid.map((v) => new TextEncoder().encode(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
    fc.jsonValue({ maxDepth: 4 }).map((v) => new TextEncoder().encode(JSON.stringify(v))),
    fc
      .tuple(payloadLike, fc.boolean())
      .map(([v, proto]) =>
        new TextEncoder().encode(proto ? withProto(JSON.stringify(v)) : JSON.stringify(v)),
      ),
  );

  it('never answers 5xx and delivers only bodies the schema allows', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (bytes, asBase64) => {
        harness.reset();
        const event = hmacEvent(asBase64 ? bytes : Buffer.from(bytes).toString('utf8'), {
          now: NOW,
          eventId: 'evt-prop',
        });
        const reply = await harness.invoke(event);
        expect(reply.status).toBeLessThan(500);
        expect(typeof reply.body.code === 'string' || reply.status === 200).toBe(true);
        if (harness.deliveries.length > 0) {
          expect(reply.status).toBe(200);
          expect(
            couldBeValid(Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8')),
          ).toBe(true);
        } else {
          expect(reply.status).not.toBe(200);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('applies every schema-valid body, so the property above is not vacuous', async () => {
    await fc.assert(
      fc.asyncProperty(valid, fc.boolean(), async (payload, asBase64) => {
        harness.reset();
        const body = JSON.stringify(payload);
        const reply = await harness.invoke(
          hmacEvent(asBase64 ? Buffer.from(body) : body, { now: NOW, eventId: 'evt-ok' }),
        );
        expect(reply.body).toMatchObject({ status: 'applied', eventId: 'evt-ok' });
        expect(harness.deliveries[0]?.updates[0]?.change.subject.externalId).toBe(payload.id);
      }),
      { numRuns: 100 },
    );
  });

  it('never delivers what is not signed over the exact bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.nat(),
        async (bytes, at) => {
          harness.reset();
          const event = hmacEvent(bytes, { now: NOW });
          const tampered = Buffer.from(bytes);
          const index = at % tampered.length;
          tampered[index] = (tampered[index] ?? 0) ^ 0x80;
          const reply = await harness.invoke({ ...event, body: tampered.toString('base64') });
          // The signature is checked first, over the bytes, so any changed byte fails it.
          expect(reply.status).toBe(401);
          expect(harness.deliveries).toHaveLength(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});
