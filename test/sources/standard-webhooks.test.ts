import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/config/types.ts';
import { standardWebhooksSource } from '../../lib/sources/standard-webhooks/index.ts';
import { signStandardWebhook } from '../../lib/sources/standard-webhooks/signature.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';
import { fixturePayload, readRequest } from '../helpers/events.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

// identity-sources §7.1 (official) and §7.4 (rotation) vectors.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET_2 = 'whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdA==';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const WRONG_SIGNATURE = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
const ROTATION_ID = 'msg_2aUserUpdated0001';
const ROTATION_TS = 1700000000;
const ROTATION_BODY =
  '{"type":"user.updated","object":"event","data":{"id":"user_2abc","first_name":"Jane"}}';
const ROTATION_SIG_1 = 'v1,Kj14ofMsM9dB7O04Jh4+Fen1y4AW977JTgXAdC80/3A=';
const ROTATION_SIG_2 = 'v1,pYqS/hnV8BFYqL7SXA/vyWeUX+YNqsQIEGNCoU+9CGU=';

const fixture = readRequest('clerk.user-updated');

const connection = (
  options: Record<string, unknown> = {},
  signing: string[] = ['signing'],
): Connection => sourceConnection('clerk', 'standard-webhooks', options, signing);

const context = (nowMs: number, secrets: Record<string, string> = { signing: SECRET }) =>
  sourceContext(nowMs, secrets);

const request = (headers: Record<string, string>, body: string | Buffer): InboundRequest =>
  inboundRequest('/webhooks/clerk', headers, body);

const vectorHeaders = (signature = SIGNATURE, timestamp = String(TS)) => ({
  'webhook-id': MSG_ID,
  'webhook-timestamp': timestamp,
  'webhook-signature': signature,
});

const source = standardWebhooksSource.prepare(connection());
const rejection = (reason: string) => ({
  code: 'SIGNATURE_INVALID',
  statusCode: 401,
  details: { reason },
});

describe('standardWebhooksSource.prepare', () => {
  it.each([
    [{ unknown: true }],
    [{ toleranceSeconds: 0 }],
    [{ toleranceSeconds: '300' }],
    [{ eventTypes: 'user.updated' }],
    [{ eventTypes: [] }],
  ])('throws CONFIG_INVALID for options %j', (options) => {
    expect(() => standardWebhooksSource.prepare(connection(options))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('exposes an options schema that forbids unknown options', () => {
    expect(standardWebhooksSource.optionsSchema).toMatchObject({ additionalProperties: false });
  });
});

describe('standardWebhooksSource.authenticate', () => {
  it('accepts the published vector with webhook-* headers', async () => {
    await expect(
      source.authenticate(request(vectorHeaders(), PAYLOAD), context(TS * 1000)),
    ).resolves.toBeUndefined();
  });

  it('accepts the published vector with svix-* headers', async () => {
    const headers = {
      'svix-id': MSG_ID,
      'svix-timestamp': String(TS),
      'svix-signature': SIGNATURE,
    };
    await expect(
      source.authenticate(request(headers, PAYLOAD), context(TS * 1000)),
    ).resolves.toBeUndefined();
  });

  it('prefers svix-* headers over webhook-* headers when both are present', async () => {
    const svixWins = { ...vectorHeaders(WRONG_SIGNATURE), 'svix-signature': SIGNATURE };
    await expect(
      source.authenticate(request(svixWins, PAYLOAD), context(TS * 1000)),
    ).resolves.toBeUndefined();
    const svixWrong = { ...vectorHeaders(SIGNATURE), 'svix-signature': WRONG_SIGNATURE };
    await expect(
      source.authenticate(request(svixWrong, PAYLOAD), context(TS * 1000)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('rejects the published negative vector', async () => {
    await expect(
      source.authenticate(request(vectorHeaders(WRONG_SIGNATURE), PAYLOAD), context(TS * 1000)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('accepts a valid signature among several, skipping other versions', async () => {
    const wrong = WRONG_SIGNATURE.slice(3);
    const header = `v1,${wrong} v2,${wrong} ${SIGNATURE} v1,${wrong}`;
    await expect(
      source.authenticate(request(vectorHeaders(header), PAYLOAD), context(TS * 1000)),
    ).resolves.toBeUndefined();
  });

  it('does not accept a valid MAC labelled with another version', async () => {
    const header = `v1a,${SIGNATURE.slice(3)} v2,${SIGNATURE.slice(3)}`;
    await expect(
      source.authenticate(request(vectorHeaders(header), PAYLOAD), context(TS * 1000)),
    ).rejects.toMatchObject(rejection('malformed_signature'));
  });

  it.each([
    ['300 s old', TS - 300, true],
    ['301 s old', TS - 301, false],
    ['300 s ahead', TS + 300, true],
    ['301 s ahead', TS + 301, false],
    ['from 2000-01-01', 946684800, false],
  ])('checks the tolerance against the injected clock (%s)', async (_label, nowSeconds, ok) => {
    const outcome = source.authenticate(
      request(vectorHeaders(), PAYLOAD),
      context(nowSeconds * 1000),
    );
    if (ok) await expect(outcome).resolves.toBeUndefined();
    else await expect(outcome).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
  });

  it('uses the configured tolerance', async () => {
    const strict = standardWebhooksSource.prepare(connection({ toleranceSeconds: 10 }));
    await expect(
      strict.authenticate(request(vectorHeaders(), PAYLOAD), context((TS + 11) * 1000)),
    ).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
    await expect(
      strict.authenticate(request(vectorHeaders(), PAYLOAD), context((TS + 10) * 1000)),
    ).resolves.toBeUndefined();
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a delivery without %s',
    async (name) => {
      const headers: Record<string, string> = vectorHeaders();
      delete headers[name];
      await expect(
        source.authenticate(request(headers, PAYLOAD), context(TS * 1000)),
      ).rejects.toMatchObject(rejection('missing_headers'));
    },
  );

  it.each([
    ['a non-numeric timestamp', vectorHeaders(SIGNATURE, 'yesterday'), 'malformed_timestamp'],
    ['a negative timestamp', vectorHeaders(SIGNATURE, '-1614265330'), 'malformed_timestamp'],
    ['a signature without a version', vectorHeaders(SIGNATURE.slice(3)), 'malformed_signature'],
    ['a signature that is not base64', vectorHeaders('v1,###'), 'malformed_signature'],
    ['a truncated signature', vectorHeaders(SIGNATURE.slice(0, 20)), 'no_matching_signature'],
  ])('rejects %s', async (_label, headers, reason) => {
    await expect(
      source.authenticate(request(headers, PAYLOAD), context(TS * 1000)),
    ).rejects.toMatchObject(rejection(reason));
  });

  it('rejects a tampered body, id or timestamp', async () => {
    const tampered = PAYLOAD.replace('2432232314', '2432232315');
    await expect(
      source.authenticate(request(vectorHeaders(), tampered), context(TS * 1000)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
    await expect(
      source.authenticate(
        request({ ...vectorHeaders(), 'webhook-id': `${MSG_ID}x` }, PAYLOAD),
        context(TS * 1000),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
    await expect(
      source.authenticate(
        request(vectorHeaders(SIGNATURE, String(TS + 1)), PAYLOAD),
        context(TS * 1000),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('rejects a signature made with another secret', async () => {
    await expect(
      source.authenticate(
        request(vectorHeaders(), PAYLOAD),
        context(TS * 1000, { signing: SECRET_2 }),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('accepts a bare base64 secret (without whsec_)', async () => {
    const bare = context(TS * 1000, { signing: SECRET.slice('whsec_'.length) });
    await expect(
      source.authenticate(request(vectorHeaders(), PAYLOAD), bare),
    ).resolves.toBeUndefined();
  });

  it('fails with CONFIG_INVALID, not a 401, when the stored secret is not base64', async () => {
    await expect(
      source.authenticate(
        request(vectorHeaders(), PAYLOAD),
        context(TS * 1000, { signing: 'whsec_!!' }),
      ),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  describe('during a secret rotation', () => {
    const rotating = standardWebhooksSource.prepare(connection({}, ['old', 'new']));
    const rotationRequest = (signature: string) =>
      request(
        {
          'svix-id': ROTATION_ID,
          'svix-timestamp': String(ROTATION_TS),
          'svix-signature': signature,
        },
        ROTATION_BODY,
      );

    it('reproduces the self-computed rotation vectors', () => {
      expect(signStandardWebhook(SECRET, ROTATION_ID, ROTATION_TS, ROTATION_BODY)).toBe(
        ROTATION_SIG_1,
      );
      expect(signStandardWebhook(SECRET_2, ROTATION_ID, ROTATION_TS, ROTATION_BODY)).toBe(
        ROTATION_SIG_2,
      );
    });

    it.each([
      ['old secret only', { old: SECRET, new: SECRET }],
      ['new secret only', { old: SECRET_2, new: SECRET_2 }],
      ['both secrets', { old: SECRET, new: SECRET_2 }],
      ['both secrets, swapped', { old: SECRET_2, new: SECRET }],
    ])('accepts a doubly signed delivery with the %s configured', async (_label, secrets) => {
      await expect(
        rotating.authenticate(
          rotationRequest(`${ROTATION_SIG_2} ${ROTATION_SIG_1}`),
          context(ROTATION_TS * 1000, secrets),
        ),
      ).resolves.toBeUndefined();
    });

    it('accepts a signature matching either configured secret', async () => {
      const both = context(ROTATION_TS * 1000, { old: SECRET, new: SECRET_2 });
      await expect(
        rotating.authenticate(rotationRequest(ROTATION_SIG_1), both),
      ).resolves.toBeUndefined();
      await expect(
        rotating.authenticate(rotationRequest(ROTATION_SIG_2), both),
      ).resolves.toBeUndefined();
    });

    it('rejects a signature matching neither configured secret', async () => {
      const neither = context(ROTATION_TS * 1000, { old: SECRET_2, new: SECRET_2 });
      await expect(
        rotating.authenticate(rotationRequest(ROTATION_SIG_1), neither),
      ).rejects.toMatchObject(rejection('no_matching_signature'));
    });
  });

  it('signs the exact bytes of a body that is not valid UTF-8', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const signature = signStandardWebhook(SECRET, MSG_ID, TS, body);
    await expect(
      source.authenticate(request(vectorHeaders(signature), body), context(TS * 1000)),
    ).resolves.toBeUndefined();
    // The library decodes a Buffer to a string first, so it signs U+FFFD instead: this is why
    // the adapter computes the HMAC with node:crypto.
    expect(new Webhook(SECRET).sign(MSG_ID, new Date(TS * 1000), body)).not.toBe(signature);
    await expect(
      source.authenticate(
        request(
          vectorHeaders(signature),
          Buffer.from([0x7b, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd, 0x7d]),
        ),
        context(TS * 1000),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('accepts what the standardwebhooks library signs and rejects any one-byte change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (payload, id, ts, position, flip) => {
          const signature = new Webhook(SECRET).sign(id, new Date(ts * 1000), payload);
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': signature,
          };
          const body = Buffer.from(payload, 'utf8');
          await source.authenticate(request(headers, body), context(ts * 1000));
          const tampered = Buffer.concat([body, Buffer.from('x')]);
          const index = position % tampered.length;
          tampered[index] = (tampered[index] ?? 0) ^ flip;
          await expect(
            source.authenticate(request(headers, tampered), context(ts * 1000)),
          ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('produces signatures the standardwebhooks library verifies', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (payload) => {
        const ts = Math.floor(Date.now() / 1000);
        const headers = {
          'webhook-id': MSG_ID,
          'webhook-timestamp': String(ts),
          'webhook-signature': signStandardWebhook(SECRET, MSG_ID, ts, payload),
        };
        expect(() =>
          new Webhook(SECRET).verify(payload, headers, { jsonParse: false }),
        ).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('verifies the fixture at its own delivery time and rejects it an hour later', async () => {
    const sentAt = Number(fixture.headers['svix-timestamp']) * 1000;
    await expect(source.authenticate(fixture, context(sentAt))).resolves.toBeUndefined();
    await expect(source.authenticate(fixture, context(sentAt + 3_600_000))).rejects.toMatchObject(
      rejection('timestamp_out_of_tolerance'),
    );
  });

  it('accepts the fixture body re-signed at the current time', async () => {
    const now = Date.now();
    const ts = Math.floor(now / 1000);
    const id = fixture.headers['svix-id'] ?? '';
    const headers = {
      ...fixture.headers,
      'svix-timestamp': String(ts),
      'svix-signature': signStandardWebhook(SECRET, id, ts, fixture.rawBody),
    };
    await expect(
      source.authenticate(request(headers, fixture.rawBody), context(now)),
    ).resolves.toBeUndefined();
  });
});

const userEvent = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'user.updated',
  object: 'event',
  data: { id: 'user_1', object: 'user', ...data },
  ...extra,
});

const DELIVERY_HEADERS = {
  'svix-id': 'msg_1',
  'svix-timestamp': '1735689600',
  'svix-signature': 'v1,x',
};
const delivered = request(DELIVERY_HEADERS, '');
const parse = (payload: unknown, src = source) => src.parse(payload, delivered);

describe('standardWebhooksSource.parse', () => {
  it('returns the typed delivery: id and time from the headers, user from data', () => {
    const payload = fixturePayload('clerk.user-updated');
    expect(source.parse(payload, fixture)).toEqual({
      eventId: 'msg_2demoAliceUserUpdated01',
      event: payload,
      user: payload.data,
      sentAtMs: Number(fixture.headers['svix-timestamp']) * 1000,
    });
  });

  it.each([
    ['a non-object payload', [], ''],
    ['a missing type', { data: { id: 'user_1' } }, '/type'],
    ['a missing data', { type: 'user.updated' }, '/data'],
    ['a missing user id', userEvent({ id: undefined }), '/data/id'],
    ['a numeric user id', userEvent({ id: 42 }), '/data/id'],
    ['an empty user id', userEvent({ id: '' }), '/data/id'],
    ['a numeric username', userEvent({ username: 7 }), '/data/username'],
    [
      'email_addresses as a string',
      userEvent({ email_addresses: 'a@b.c' }),
      '/data/email_addresses',
    ],
    [
      'an email entry without an address',
      userEvent({ email_addresses: [{ id: 'idn_1' }] }),
      '/data/email_addresses/0/email_address',
    ],
    ['public_metadata as an array', userEvent({ public_metadata: [] }), '/data/public_metadata'],
    ['a huge updated_at', userEvent({ updated_at: 1e20 }), '/data/updated_at'],
    ['a fractional updated_at', userEvent({ updated_at: 1.5 }), '/data/updated_at'],
    [
      'an infinite envelope timestamp',
      userEvent({}, { timestamp: JSON.parse('1e400') }),
      '/timestamp',
    ],
  ])('throws PAYLOAD_INVALID for %s', (_label, payload, path) => {
    expect(() => parse(payload)).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: expect.arrayContaining([expect.objectContaining({ path })]),
      }),
    );
  });

  it('reports every error at once', () => {
    expect(() => parse(userEvent({ id: 1, username: 2 }))).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        details: expect.arrayContaining([
          expect.objectContaining({ path: '/data/id' }),
          expect.objectContaining({ path: '/data/username' }),
        ]),
      }),
    );
  });

  it('accepts extra fields and nulls the sender may add', () => {
    const payload = userEvent(
      { username: null, last_name: null, new_field: { any: 'thing' } },
      { extra: 1 },
    );
    expect(parse(payload)).toMatchObject({ event: payload, user: payload.data });
  });

  it('does not require a user in event types it ignores', () => {
    const payload = { type: 'session.created', data: { id: 5 } };
    expect(parse(payload)).toEqual({
      eventId: 'msg_1',
      event: payload,
      sentAtMs: 1_735_689_600_000,
    });
  });

  it('throws SIGNATURE_INVALID when called without the webhook headers', () => {
    expect(() => source.parse(userEvent({}), request({}, ''))).toThrow(
      expect.objectContaining({
        code: 'SIGNATURE_INVALID',
        details: { reason: 'missing_headers' },
      }),
    );
  });

  describe('caps the event id at 256 characters', () => {
    const longId = `msg_${'x'.repeat(253)}`;

    it.each(['svix-id', 'webhook-id'])('refuses a longer %s, naming the header', (name) => {
      const headers = { ...vectorHeaders(), [name]: longId };
      let thrown: unknown;
      try {
        source.parse(userEvent({}), request(headers, ''));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: [{ path: `/headers/${name}`, message: expect.any(String) }],
      });
      expect(JSON.stringify(thrown)).not.toContain(longId);
      expect((thrown as Error).message).not.toContain(longId);
    });

    it('accepts exactly 256 characters', () => {
      const id = longId.slice(1);
      const headers = { ...vectorHeaders(), 'svix-id': id };
      expect(source.parse(userEvent({}), request(headers, ''))).toMatchObject({ eventId: id });
    });

    it('verifies the signature over a long id first, then refuses it in parse', async () => {
      const signature = signStandardWebhook(SECRET, longId, TS, PAYLOAD);
      const signed = request(
        { 'svix-id': longId, 'svix-timestamp': String(TS), 'svix-signature': signature },
        PAYLOAD,
      );
      await expect(source.authenticate(signed, context(TS * 1000))).resolves.toBeUndefined();
      expect(() => source.parse(JSON.parse(PAYLOAD), signed)).toThrow(
        expect.objectContaining({ code: 'PAYLOAD_INVALID' }),
      );
    });
  });
});

describe('standardWebhooksSource.toChanges', () => {
  const deliver = async (payload: unknown, src = source, nowMs = 1_735_689_600_000) =>
    src.toChanges(src.parse(payload, delivered), delivered, context(nowMs));

  it('maps the fixture to one canonical change', async () => {
    const payload = fixturePayload('clerk.user-updated');
    const inbound = fixture;
    const outcome = await source.toChanges(source.parse(payload, inbound), inbound, context(0));
    expect(outcome).toEqual({
      ignored: [],
      changes: [
        {
          connectionId: 'clerk',
          eventId: 'msg_2demoAliceUserUpdated01',
          eventType: 'user.updated',
          occurredAt: '2024-12-31T23:59:59.500Z',
          subject: {
            externalId: 'ext-alice',
            email: 'alice@example.com',
            phone: '+6591234561',
            userName: 'alice',
          },
          attributes: {
            userName: 'alice',
            email: 'alice@example.com',
            phone: '+6591234561',
            nickname: 'Alice Anders',
            givenName: 'Alice',
            familyName: 'Anders',
            birthdate: '1990-05-17',
            custom: { department: 'Engineering', tier: 'gold' },
          },
          raw: payload.data,
        },
      ],
    });
  });

  it('takes the parsed delivery as it is, without validating again', async () => {
    // data without a user id: parse() would refuse it, toChanges trusts what it is given.
    const event = { type: 'user.updated', data: {} };
    expect(() => parse(event)).toThrow(expect.objectContaining({ code: 'PAYLOAD_INVALID' }));
    const outcome = await source.toChanges(
      { eventId: 'msg_given', event, user: { id: 'user_9' } },
      request({}, ''),
      context(1_735_689_600_000),
    );
    expect(outcome.changes[0]).toMatchObject({
      eventId: 'msg_given',
      subject: { externalId: 'user_9' },
      occurredAt: '2025-01-01T00:00:00.000Z',
    });
  });
  it('leaves out what the user does not have', async () => {
    const { changes } = await deliver(
      userEvent({
        username: 'jdoe',
        first_name: null,
        last_name: '',
        birthday: '',
        primary_email_address_id: 'idn_missing',
        email_addresses: [{ id: 'idn_other', email_address: 'other@example.com' }],
        primary_phone_number_id: null,
        phone_numbers: [{ id: 'idn_phone', phone_number: '+10000000000' }],
      }),
    );
    expect(changes[0]?.subject).toEqual({ externalId: 'user_1', userName: 'jdoe' });
    expect(changes[0]?.attributes).toEqual({ userName: 'jdoe', nickname: 'jdoe' });
  });

  it('trims a half-filled name', async () => {
    const { changes } = await deliver(userEvent({ first_name: 'Jane', last_name: null }));
    expect(changes[0]?.attributes.nickname).toBe('Jane');
  });

  it('takes occurredAt from the envelope timestamp, then the delivery header', async () => {
    const fromEnvelope = await deliver(userEvent({}, { timestamp: 1_700_000_000_123 }));
    expect(fromEnvelope.changes[0]?.occurredAt).toBe('2023-11-14T22:13:20.123Z');
    const fromHeader = await deliver(userEvent({}));
    expect(fromHeader.changes[0]?.occurredAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('ignores event types outside the default list', async () => {
    await expect(
      deliver({ type: 'user.deleted', data: { id: 'user_1', deleted: true } }),
    ).resolves.toEqual({
      changes: [],
      ignored: [{ eventId: 'msg_1', eventType: 'user.deleted', reason: 'event_type_not_handled' }],
    });
  });

  it('follows the configured event types', async () => {
    const onlyCreated = standardWebhooksSource.prepare(
      connection({ eventTypes: ['user.created', 'user.deleted'] }),
    );
    const updated = await deliver(userEvent({}), onlyCreated);
    expect(updated).toEqual({
      changes: [],
      ignored: [{ eventId: 'msg_1', eventType: 'user.updated', reason: 'event_type_not_handled' }],
    });
    const deleted = await deliver(
      { type: 'user.deleted', data: { id: 'user_9', deleted: true } },
      onlyCreated,
    );
    expect(deleted.changes[0]?.subject).toEqual({ externalId: 'user_9' });
  });

  it('keeps __proto__ keys from polluting prototypes', async () => {
    const payload = JSON.parse(
      '{"type":"user.updated","data":{"id":"user_1","__proto__":{"polluted":true},' +
        '"public_metadata":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},' +
        '"prototype":1,"plan":"pro"}}}',
    );
    const { changes } = await deliver(payload);
    const custom = changes[0]?.attributes.custom;
    expect(custom).toEqual({ plan: 'pro' });
    expect(Object.getPrototypeOf(custom)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
