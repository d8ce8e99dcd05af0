import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/config/types.ts';
import { hmacSource } from '../../lib/sources/hmac/index.ts';
import { signHmac } from '../../lib/sources/hmac/signature.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';
import { fixturePayload, readRequest } from '../helpers/events.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

// identity-sources §7.3 (GitHub's published vector) and §7.4 (self-computed).
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_BODY = 'Hello, World!';
const GITHUB_HEADER = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
const GH_SECRET = 'gh_secret';
const GH_BODY =
  '{"type":"user.updated","object":"event","data":{"id":"user_2abc","first_name":"Jane"}}';
const GH_HEADER = 'sha256=a0e61d8807cfe72018d51c5d645b512aff192506230410100492d487872fb037';
const DEMO_SECRET = 'demo-hmac-secret';
const NOW = 1_735_689_600_000;
const HEX = { prefix: 'sha256=', encoding: 'hex' } as const;

const fixture = readRequest('hmac.user-updated');

/** The demo connection's options (config/local.json), which events/hmac.user-updated.json fits. */
const demoOptions = {
  signatureHeader: 'x-hub-signature-256',
  prefix: 'sha256=',
  encoding: 'hex',
  eventIdHeader: 'x-event-id',
  payloadSchema: {
    type: 'object',
    required: ['id'],
    properties: {
      id: { type: 'string', minLength: 1 },
      email: { type: 'string', format: 'email' },
      phone: { type: 'string' },
      name: { type: 'string' },
    },
    additionalProperties: false,
  },
  fields: { externalId: 'id', email: 'email', phone: 'phone', nickname: 'name' },
};

/** A richer sender: event envelope with a nested user. */
const nestedOptions = {
  payloadSchema: {
    type: 'object',
    required: ['id', 'type', 'user'],
    properties: {
      id: { type: 'string', minLength: 1 },
      type: { type: 'string' },
      occurred_at: { type: 'string', format: 'date-time' },
      user: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: ['string', 'integer'] },
          email: { type: 'string', format: 'email' },
          phone: { type: 'string' },
          username: { type: 'string' },
        },
      },
    },
  },
  fields: {
    externalId: 'user.id',
    eventId: 'id',
    eventType: 'type',
    occurredAt: 'occurred_at',
    email: 'user.email',
    phone: 'user.phone',
    userName: 'user.username',
    givenName: 'user.given_name',
    familyName: 'user.family_name',
    nickname: 'user.display_name',
  },
};

const connection = (
  options: Record<string, unknown> = nestedOptions,
  signing: string[] = ['signing'],
): Connection => sourceConnection('hmac', 'hmac', options, signing);

const context = (nowMs = NOW, secrets: Record<string, string> = { signing: DEMO_SECRET }) =>
  sourceContext(nowMs, secrets);

const request = (headers: Record<string, string>, body: string | Buffer): InboundRequest =>
  inboundRequest('/webhooks/hmac', headers, body);

const source = hmacSource.prepare(connection());
const demo = hmacSource.prepare(connection(demoOptions));
const rejection = (reason: string) => ({
  code: 'SIGNATURE_INVALID',
  statusCode: 401,
  details: { reason },
});

describe('hmacSource.prepare', () => {
  it.each([
    ['no payloadSchema', { fields: nestedOptions.fields }],
    ['no fields', { payloadSchema: {} }],
    ['fields without externalId', { payloadSchema: {}, fields: { email: 'email' } }],
    ['an unknown field', { payloadSchema: {}, fields: { externalId: 'id', colour: 'c' } }],
    ['an unknown option', { ...nestedOptions, secret: 'x' }],
    ['an unknown encoding', { ...nestedOptions, encoding: 'base32' }],
    ['a header name with a space', { ...nestedOptions, signatureHeader: 'x sig' }],
    ['toleranceSeconds without timestampHeader', { ...nestedOptions, toleranceSeconds: 60 }],
    ['a JSONata syntax error', { ...nestedOptions, fields: { externalId: 'user.(' } }],
    ['a payloadSchema with a typo', { ...nestedOptions, payloadSchema: { requried: ['id'] } }],
    ['a payloadSchema with a bad type', { ...nestedOptions, payloadSchema: { type: 'objekt' } }],
  ])('throws CONFIG_INVALID for %s', (_label, options) => {
    expect(() => hmacSource.prepare(connection(options))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('names the field whose expression does not compile', () => {
    expect(() =>
      hmacSource.prepare(
        connection({ ...nestedOptions, fields: { externalId: 'id', email: '$$(' } }),
      ),
    ).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'fields.email' }) }),
    );
  });
});

describe('signHmac', () => {
  it('reproduces the published GitHub vector and the self-computed one', () => {
    expect(signHmac(GITHUB_SECRET, GITHUB_BODY, HEX)).toBe(GITHUB_HEADER);
    expect(signHmac(GH_SECRET, GH_BODY, HEX)).toBe(GH_HEADER);
  });
});

describe('hmacSource.authenticate', () => {
  const github = hmacSource.prepare(connection({ ...nestedOptions }, ['gh']));
  const ghContext = (secret: string) => context(NOW, { gh: secret });

  it('accepts the GitHub vectors with the default options', async () => {
    await expect(
      github.authenticate(
        request({ 'x-hub-signature-256': GITHUB_HEADER }, GITHUB_BODY),
        ghContext(GITHUB_SECRET),
      ),
    ).resolves.toBeUndefined();
    await expect(
      github.authenticate(
        request({ 'x-hub-signature-256': GH_HEADER }, GH_BODY),
        ghContext(GH_SECRET),
      ),
    ).resolves.toBeUndefined();
  });

  it.each([
    ['a missing header', {}, 'missing_headers'],
    [
      'another prefix',
      { 'x-hub-signature-256': GITHUB_HEADER.replace('sha256=', 'sha1=') },
      'malformed_signature',
    ],
    ['no prefix', { 'x-hub-signature-256': GITHUB_HEADER.slice(7) }, 'malformed_signature'],
    [
      'a short digest',
      { 'x-hub-signature-256': GITHUB_HEADER.slice(0, -2) },
      'malformed_signature',
    ],
    [
      'a non-hex digest',
      { 'x-hub-signature-256': `sha256=${'zz'.repeat(32)}` },
      'malformed_signature',
    ],
    [
      'a wrong digest',
      { 'x-hub-signature-256': `sha256=${'ab'.repeat(32)}` },
      'no_matching_signature',
    ],
  ])('rejects %s', async (_label, headers, reason) => {
    await expect(
      github.authenticate(request(headers, GITHUB_BODY), ghContext(GITHUB_SECRET)),
    ).rejects.toMatchObject(rejection(reason));
  });

  it('rejects a tampered body and a wrong secret', async () => {
    const headers = { 'x-hub-signature-256': GITHUB_HEADER };
    await expect(
      github.authenticate(request(headers, 'Hello, World?'), ghContext(GITHUB_SECRET)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
    await expect(
      github.authenticate(request(headers, GITHUB_BODY), ghContext(GH_SECRET)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('reads a configured header name in any case, with base64 and no prefix', async () => {
    const custom = hmacSource.prepare(
      connection({
        ...nestedOptions,
        signatureHeader: 'X-Keycloak-Signature',
        prefix: '',
        encoding: 'base64',
      }),
    );
    const signature = signHmac(DEMO_SECRET, fixture.rawBody, { prefix: '', encoding: 'base64' });
    await expect(
      custom.authenticate(
        request({ 'x-keycloak-signature': signature }, fixture.rawBody),
        context(),
      ),
    ).resolves.toBeUndefined();
    await expect(
      custom.authenticate(
        request({ 'x-keycloak-signature': `${signature}x` }, fixture.rawBody),
        context(),
      ),
    ).rejects.toMatchObject(rejection('malformed_signature'));
  });

  it('does not find inherited properties when a header is named like one', async () => {
    const odd = hmacSource.prepare(
      connection({ ...nestedOptions, signatureHeader: 'constructor' }),
    );
    await expect(odd.authenticate(request({}, fixture.rawBody), context())).rejects.toMatchObject(
      rejection('missing_headers'),
    );
  });

  it('accepts a signature matching either secret during a rotation', async () => {
    const rotating = hmacSource.prepare(connection(nestedOptions, ['old', 'new']));
    const both = context(NOW, { old: GH_SECRET, new: GITHUB_SECRET });
    await expect(
      rotating.authenticate(request({ 'x-hub-signature-256': GITHUB_HEADER }, GITHUB_BODY), both),
    ).resolves.toBeUndefined();
    await expect(
      rotating.authenticate(request({ 'x-hub-signature-256': GH_HEADER }, GH_BODY), both),
    ).resolves.toBeUndefined();
  });

  describe('with a timestamp header', () => {
    const timed = hmacSource.prepare(
      connection({
        ...nestedOptions,
        timestampHeader: 'X-Webhook-Timestamp',
        toleranceSeconds: 60,
      }),
    );
    const ts = NOW / 1000;
    const timedRequest = (
      timestamp: string,
      signature = signHmac(DEMO_SECRET, fixture.rawBody, HEX, timestamp),
    ) =>
      request(
        { 'x-hub-signature-256': signature, 'x-webhook-timestamp': timestamp },
        fixture.rawBody,
      );

    it.each([
      ['60 s old', ts - 60, true],
      ['61 s old', ts - 61, false],
      ['60 s ahead', ts + 60, true],
      ['61 s ahead', ts + 61, false],
    ])('checks the tolerance both ways (%s)', async (_label, timestamp, ok) => {
      const outcome = timed.authenticate(timedRequest(String(timestamp)), context());
      if (ok) await expect(outcome).resolves.toBeUndefined();
      else await expect(outcome).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
    });

    it('signs the timestamp with the body', async () => {
      const bodyOnly = signHmac(DEMO_SECRET, fixture.rawBody, HEX);
      await expect(
        timed.authenticate(timedRequest(String(ts), bodyOnly), context()),
      ).rejects.toMatchObject(rejection('no_matching_signature'));
      const other = signHmac(DEMO_SECRET, fixture.rawBody, HEX, ts - 1);
      await expect(
        timed.authenticate(timedRequest(String(ts), other), context()),
      ).rejects.toMatchObject(rejection('no_matching_signature'));
    });

    it('rejects a missing or malformed timestamp', async () => {
      const signature = signHmac(DEMO_SECRET, fixture.rawBody, HEX);
      await expect(
        timed.authenticate(
          request({ 'x-hub-signature-256': signature }, fixture.rawBody),
          context(),
        ),
      ).rejects.toMatchObject(rejection('missing_headers'));
      await expect(timed.authenticate(timedRequest('1.7e9'), context())).rejects.toMatchObject(
        rejection('malformed_timestamp'),
      );
    });

    it('defaults the tolerance to 300 s', async () => {
      const fiveMinutes = hmacSource.prepare(
        connection({ ...nestedOptions, timestampHeader: 'x-webhook-timestamp' }),
      );
      await expect(
        fiveMinutes.authenticate(timedRequest(String(ts - 300)), context()),
      ).resolves.toBeUndefined();
      await expect(
        fiveMinutes.authenticate(timedRequest(String(ts - 301)), context()),
      ).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
    });
  });

  it('accepts any signed body and rejects any one-byte change', async () => {
    const prepared = {
      hex: source,
      base64: hmacSource.prepare(connection({ ...nestedOptions, encoding: 'base64' })),
    };
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('hex' as const, 'base64' as const),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (bytes, encoding, position, flip) => {
          const body = Buffer.from(bytes);
          const signature = signHmac(DEMO_SECRET, body, { prefix: 'sha256=', encoding });
          const headers = { 'x-hub-signature-256': signature };
          await prepared[encoding].authenticate(request(headers, body), context());
          const tampered = Buffer.concat([body, Buffer.from('}')]);
          const index = position % tampered.length;
          tampered[index] = (tampered[index] ?? 0) ^ flip;
          await expect(
            prepared[encoding].authenticate(request(headers, tampered), context()),
          ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('verifies the fixture with the demo secret at any time (no timestamp is signed)', async () => {
    await expect(demo.authenticate(fixture, context(Date.now()))).resolves.toBeUndefined();
  });
});

const nestedPayload = () => ({
  id: 'evt_1',
  type: 'user.updated',
  occurred_at: '2025-01-01T00:00:00Z',
  user: { id: 'u1', email: 'u1@example.com' },
});

const parse = (payload: unknown, src = source, headers: Record<string, string> = {}) =>
  src.parse(payload, request(headers, ''));

describe('hmacSource.parse', () => {
  const valid = nestedPayload;

  it('returns the payload the configured schema accepted', () => {
    const payload = fixturePayload('hmac.user-updated');
    expect(parse(payload, demo)).toEqual({ payload });
    expect(() => parse({ ...payload, extra: 1 }, demo)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_INVALID' }),
    );
  });

  it('returns the configured headers it will use', () => {
    const payload = fixturePayload('hmac.user-updated');
    expect(parse(payload, demo, fixture.headers)).toEqual({
      payload,
      eventIdHeader: fixture.headers['x-event-id'],
    });
    const timed = hmacSource.prepare(
      connection({
        ...nestedOptions,
        eventTypeHeader: 'x-event-type',
        timestampHeader: 'x-ts',
      }),
    );
    expect(parse(valid(), timed, { 'x-event-type': 'user.created', 'x-ts': '1700000000' })).toEqual(
      { payload: valid(), eventTypeHeader: 'user.created', sentAtMs: 1_700_000_000_000 },
    );
  });

  it('accepts extra fields the configured schema allows', () => {
    const extra = { ...valid(), extra: [1, 2] };
    expect(parse(extra).payload).toBe(extra);
  });

  it.each([
    ['an array payload', [], ''],
    ['a missing user', { id: 'e', type: 't' }, '/user'],
    ['a numeric event id', { ...valid(), id: 7 }, '/id'],
    ['a boolean user id', { ...valid(), user: { id: true } }, '/user/id'],
    ['a huge user id', { ...valid(), user: { id: JSON.parse('1e400') } }, '/user/id'],
    ['an invalid email', { ...valid(), user: { id: 'u', email: 'not-an-email' } }, '/user/email'],
    ['an invalid date-time', { ...valid(), occurred_at: 'yesterday' }, '/occurred_at'],
  ])('throws PAYLOAD_INVALID for %s', (_label, payload, path) => {
    expect(() => parse(payload)).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: expect.arrayContaining([expect.objectContaining({ path })]),
      }),
    );
  });

  describe('caps echoed header values at 256 characters', () => {
    const headed = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'user.id' },
        eventIdHeader: 'X-GitHub-Delivery',
        eventTypeHeader: 'X-Event-Type',
      }),
    );
    const long = `d${'x'.repeat(256)}`;

    it.each(['x-github-delivery', 'x-event-type'])('refuses a longer %s, naming it', (name) => {
      let thrown: unknown;
      try {
        parse({ user: { id: 'u1' } }, headed, { [name]: long });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: [{ path: `/headers/${name}`, message: expect.any(String) }],
      });
      expect(JSON.stringify(thrown)).not.toContain(long);
      expect(() => parse({ user: { id: 'u1' } }, headed, { [name]: long.slice(1) })).not.toThrow();
    });
  });
});

describe('hmacSource.toChanges', () => {
  const deliver = async (
    payload: unknown,
    src = source,
    headers: Record<string, string> = {},
    body: string | Buffer = '',
  ) => {
    const inbound = request(headers, body);
    return src.toChanges(src.parse(payload, inbound), inbound, context());
  };
  const user = (fields: Record<string, unknown>) => ({
    id: 'evt_1',
    type: 'user.updated',
    user: { id: 'u1', ...fields },
  });

  it('takes the parsed delivery as it is, without validating again', async () => {
    // No `user`: the schema would refuse it, toChanges trusts what it is given.
    const given = { id: 'evt_9', type: 'user.updated', user_id: 'u9' };
    expect(() => parse(given)).toThrow(expect.objectContaining({ code: 'PAYLOAD_INVALID' }));
    const flat = hmacSource.prepare(
      connection({ ...nestedOptions, fields: { externalId: 'user_id', eventId: 'id' } }),
    );
    const outcome = await flat.toChanges({ payload: given }, request({}, ''), context());
    expect(outcome.changes[0]).toMatchObject({ eventId: 'evt_9', subject: { externalId: 'u9' } });
  });

  it.each([
    ['eventId', { externalId: 'user.id', eventId: 'id' }],
    ['eventType', { externalId: 'user.id', eventType: 'type' }],
  ])('caps the %s an expression yields at 256 characters', async (name, fields) => {
    const yielding = hmacSource.prepare(connection({ payloadSchema: { type: 'object' }, fields }));
    const long = `e${'x'.repeat(256)}`;
    const error = await deliver({ id: long, type: long, user: { id: 'u1' } }, yielding).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({
      code: 'PAYLOAD_INVALID',
      statusCode: 400,
      details: [{ path: `fields.${name}`, message: expect.any(String) }],
    });
    expect(JSON.stringify(error)).not.toContain(long);
    const ok = await deliver(
      { id: long.slice(1), type: long.slice(1), user: { id: 'u1' } },
      yielding,
    );
    expect(ok.changes).toHaveLength(1);
  });

  describe('with a recursive expression', () => {
    const failing = (expression: string) =>
      hmacSource.prepare(
        connection({ payloadSchema: { type: 'object' }, fields: { externalId: expression } }),
      );

    it('refuses tail recursion (stopped by the time limit) with PAYLOAD_INVALID', async () => {
      const loop = failing('($f := function($n){ $f($n+1) }; $f(0))');
      await expect(deliver({}, loop)).rejects.toMatchObject({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: [{ path: 'fields.externalId', message: 'could not be evaluated (D1012)' }],
      });
    });

    it('refuses deep recursion (stopped by the stack limit) with PAYLOAD_INVALID', async () => {
      const deep = failing('($f := function($n){ 1 + $f($n+1) }; $f(0))');
      await expect(deliver({}, deep)).rejects.toMatchObject({
        code: 'PAYLOAD_INVALID',
        details: [{ path: 'fields.externalId', message: 'could not be evaluated (D1011)' }],
      });
    });
  });

  it('maps the fixture to one canonical change with the demo options', async () => {
    const payload = fixturePayload('hmac.user-updated');
    await expect(deliver(payload, demo, fixture.headers, fixture.rawBody)).resolves.toEqual({
      ignored: [],
      changes: [
        {
          connectionId: 'hmac',
          eventId: 'evt_demo_carol_0001',
          eventType: 'user.updated',
          occurredAt: new Date(NOW).toISOString(),
          subject: { externalId: 'ext-carol', email: 'carol@example.com', phone: '+6591234563' },
          attributes: { email: 'carol@example.com', phone: '+6591234563', nickname: 'Carol Núñez' },
          raw: payload,
        },
      ],
    });
  });

  it('maps a nested payload through every field expression', async () => {
    const payload = {
      ...nestedPayload(),
      user: {
        id: 'u1',
        email: 'u1@example.com',
        phone: '+6591234567',
        username: 'jane',
        given_name: 'Jane',
        family_name: 'Doe',
        display_name: 'Jane D.',
      },
    };
    await expect(deliver(payload)).resolves.toEqual({
      ignored: [],
      changes: [
        {
          connectionId: 'hmac',
          eventId: 'evt_1',
          eventType: 'user.updated',
          occurredAt: '2025-01-01T00:00:00.000Z',
          subject: {
            externalId: 'u1',
            email: 'u1@example.com',
            phone: '+6591234567',
            userName: 'jane',
          },
          attributes: {
            userName: 'jane',
            email: 'u1@example.com',
            phone: '+6591234567',
            nickname: 'Jane D.',
            givenName: 'Jane',
            familyName: 'Doe',
          },
          raw: payload,
        },
      ],
    });
  });

  it('turns numbers into strings and keeps a numeric birthdate', async () => {
    const numeric = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'uid', eventId: 'seq', userName: 'active', birthdate: 'born' },
      }),
    );
    const { changes } = await deliver(
      { uid: 42, seq: 7, active: true, born: 642902400000 },
      numeric,
    );
    expect(changes[0]).toMatchObject({
      eventId: '7',
      subject: { externalId: '42', userName: 'true' },
      attributes: { userName: 'true', birthdate: 642902400000 },
    });
  });

  describe('without an event id in the payload', () => {
    const anonymous = hmacSource.prepare(
      connection({ payloadSchema: { type: 'object' }, fields: { externalId: 'user.id' } }),
    );
    const withHeader = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'user.id' },
        eventIdHeader: 'X-GitHub-Delivery',
      }),
    );
    const body = '{"user":{"id":"u1"}}';

    it('uses the configured delivery header', async () => {
      const { changes } = await deliver(
        JSON.parse(body),
        withHeader,
        { 'x-github-delivery': 'd-1' },
        body,
      );
      expect(changes[0]?.eventId).toBe('d-1');
    });

    it('falls back to the sha256 of the raw body, so redeliveries share an id', async () => {
      const expected = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const first = await deliver(JSON.parse(body), withHeader, {}, body);
      const again = await deliver(JSON.parse(body), anonymous, {}, body);
      const other = await deliver(JSON.parse(body), anonymous, {}, `${body} `);
      expect(first.changes[0]?.eventId).toBe(expected);
      expect(again.changes[0]?.eventId).toBe(expected);
      expect(other.changes[0]?.eventId).not.toBe(expected);
    });

    it('defaults the event type to user.updated and the time to the delivery', async () => {
      const { changes } = await deliver(JSON.parse(body), anonymous, {}, body);
      expect(changes[0]?.eventType).toBe('user.updated');
      expect(changes[0]?.occurredAt).toBe(new Date(NOW).toISOString());
    });
  });

  describe('event type filtering', () => {
    const filtered = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'user.id' },
        eventTypeHeader: 'x-event-type',
        eventTypes: ['user.updated'],
      }),
    );
    const payload = { user: { id: 'u1' } };

    it('ignores a type the sender names that is not listed', async () => {
      await expect(
        deliver(payload, filtered, { 'x-event-type': 'user.deleted' }, '{}'),
      ).resolves.toEqual({
        changes: [],
        ignored: [
          {
            eventId: `sha256:${createHash('sha256').update('{}').digest('hex')}`,
            eventType: 'user.deleted',
            reason: 'event_type_not_handled',
          },
        ],
      });
    });

    it('handles a listed type and an unnamed one', async () => {
      const named = await deliver(payload, filtered, { 'x-event-type': 'user.updated' });
      expect(named.changes).toHaveLength(1);
      const unnamed = await deliver(payload, filtered);
      expect(unnamed.changes[0]?.eventType).toBe('user.updated');
    });

    it('prefers the expression over the header', async () => {
      const both = hmacSource.prepare(
        connection({
          ...nestedOptions,
          eventTypeHeader: 'x-event-type',
          eventTypes: ['user.updated'],
        }),
      );
      const handled = await deliver(user({}), both, { 'x-event-type': 'user.deleted' });
      expect(handled.changes[0]?.eventType).toBe('user.updated');
      const ignored = await deliver({ ...user({}), type: 'user.deleted' }, both, {
        'x-event-type': 'user.updated',
      });
      expect(ignored.ignored[0]?.eventType).toBe('user.deleted');
    });
  });

  it('takes occurredAt from epoch ms, then the signed timestamp header', async () => {
    const epoch = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'id', occurredAt: 'at' },
      }),
    );
    const { changes } = await deliver({ id: 'u', at: 1_700_000_000_123 }, epoch);
    expect(changes[0]?.occurredAt).toBe('2023-11-14T22:13:20.123Z');
    const timed = hmacSource.prepare(
      connection({
        payloadSchema: { type: 'object' },
        fields: { externalId: 'id' },
        timestampHeader: 'x-ts',
      }),
    );
    const fromHeader = await deliver({ id: 'u' }, timed, { 'x-ts': '1700000000' });
    expect(fromHeader.changes[0]?.occurredAt).toBe('2023-11-14T22:13:20.000Z');
  });

  it.each([
    ['an object', { ...nestedOptions, fields: { externalId: 'user' } }, user({})],
    [
      'several values',
      { ...nestedOptions, fields: { externalId: 'user.tags' } },
      user({ tags: ['a', 'b'] }),
    ],
    [
      'nothing for externalId',
      { ...nestedOptions, fields: { externalId: 'user.missing' } },
      user({}),
    ],
    [
      'an empty externalId',
      { ...nestedOptions, fields: { externalId: 'user.blank' } },
      user({ blank: '' }),
    ],
    ['a runtime error', { ...nestedOptions, fields: { externalId: 'user.id + 1' } }, user({})],
    [
      'an unparseable date',
      { ...nestedOptions, fields: { externalId: 'user.id', occurredAt: 'user.when' } },
      user({ when: 'soon' }),
    ],
  ])('throws PAYLOAD_INVALID when an expression yields %s', async (_label, options, payload) => {
    await expect(deliver(payload, hmacSource.prepare(connection(options)))).rejects.toMatchObject({
      code: 'PAYLOAD_INVALID',
      statusCode: 400,
    });
  });

  it('leaves out fields whose expressions yield nothing', async () => {
    const { changes } = await deliver(user({ email: 'u1@example.com' }));
    expect(changes[0]?.subject).toEqual({ externalId: 'u1', email: 'u1@example.com' });
    expect(changes[0]?.attributes).toEqual({ email: 'u1@example.com' });
  });

  it('evaluates expressions over payloads with __proto__ keys without polluting prototypes', async () => {
    const payload = JSON.parse(
      '{"id":"e","type":"user.updated","__proto__":{"polluted":true},"user":{"id":"u1","__proto__":{"polluted":true}}}',
    );
    const { changes } = await deliver(payload);
    expect(changes[0]?.subject).toEqual({ externalId: 'u1' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
