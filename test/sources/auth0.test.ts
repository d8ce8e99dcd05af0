import { describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/config/types.ts';
import { AdapterError } from '../../lib/errors.ts';
import type { SecretRef, SecretSource } from '../../lib/secrets/types.ts';
import { auth0Source } from '../../lib/sources/auth0/index.ts';
import type { InboundRequest, SourceContext } from '../../lib/sources/types.ts';
import { readRequest } from '../helpers/events.ts';
import { fakeSecrets, inboundRequest, sourceContext } from '../helpers/sources.ts';

const TOKEN = 'demo-auth0-token';
const NEXT_TOKEN = 'next-auth0-token';
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

const contextOf = (secrets: SecretSource = fakeSecrets({ current: TOKEN })): SourceContext =>
  sourceContext(NOW, secrets, {
    fetch: () => Promise.reject(new Error('auth0 must not call out')),
  });

const connectionOf = (
  options: Record<string, unknown> = {},
  signing: SecretRef[] = [{ name: 'current' }],
): Connection => ({
  id: 'auth0',
  source: 'auth0',
  userStoreId: 'store-1',
  secrets: { signing },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'sync',
  options,
});

const requestOf = (headers: Record<string, string>, body: unknown = {}): InboundRequest =>
  inboundRequest('/webhooks/auth0', headers, JSON.stringify(body));

const user = (overrides: Record<string, unknown> = {}) => ({
  user_id: 'auth0|65f0c0ffee1234567890abcd',
  email: 'jane@example.com',
  email_verified: true,
  username: 'jdoe',
  phone_number: '+8613800000000',
  given_name: 'Jane',
  family_name: 'Doe',
  name: 'Jane Doe',
  nickname: 'jane',
  user_metadata: { birthdate: '1990-05-17', address: '1 Example Rd' },
  app_metadata: { groups: ['vip'] },
  created_at: '2024-01-02T03:04:05.000Z',
  updated_at: '2025-03-01T08:15:29.800Z',
  ...overrides,
});

const event = (
  overrides: Record<string, unknown> = {},
  userOverrides: Record<string, unknown> = {},
) => ({
  id: 'evt_7Hq2ExampleEvent',
  source: 'urn:auth0:example-tenant.us.auth0.com',
  specversion: '1.0',
  type: 'user.updated',
  time: '2025-03-01T08:15:30.000Z',
  data: { object: user(userOverrides) },
  a0tenant: 'example-tenant',
  a0stream: 'est_38ExampleStream',
  ...overrides,
});

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

const expectCode = async (promise: Promise<unknown>, code: string, statusCode?: number) => {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AdapterError);
  expect(error).toMatchObject(statusCode === undefined ? { code } : { code, statusCode });
  return error as AdapterError;
};

type Auth0Source = ReturnType<typeof auth0Source.prepare>;

const parse = (source: Auth0Source, payload: unknown, request = requestOf({})) =>
  source.parse(payload, request);

/** The runtime's order: parse once, then toChanges with what parse returned. */
const deliver = async (source: Auth0Source, payload: unknown, request = requestOf({})) =>
  source.toChanges(source.parse(payload, request), request, contextOf());

const validationError = (run: () => unknown): AdapterError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterError);
    return error as AdapterError;
  }
  throw new Error('expected parse to throw');
};

describe('auth0Source', () => {
  describe('prepare', () => {
    it('exports a closed options schema', () => {
      expect(auth0Source.type).toBe('auth0');
      expect(auth0Source.optionsSchema).toMatchObject({
        type: 'object',
        additionalProperties: false,
      });
    });

    it.each([
      ['an unknown option', { secret: 'x' }],
      ['an unknown auth mode', { auth: 'hmac' }],
      ['an empty event type list', { eventTypes: [] }],
      ['a non-string event type', { eventTypes: [42] }],
      ['a header name with spaces', { auth: 'header', headerName: 'x auth' }],
    ])('throws CONFIG_INVALID for %s', (_case, options) => {
      expect(() => auth0Source.prepare(connectionOf(options))).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('throws CONFIG_INVALID without a signing secret or with more than two', () => {
      expect(() => auth0Source.prepare(connectionOf({}, []))).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
      const three = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
      expect(() => auth0Source.prepare(connectionOf({}, three))).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('has no handshake', () => {
      expect(auth0Source.prepare(connectionOf()).handshake).toBeUndefined();
    });
  });

  describe('authenticate (bearer, the default)', () => {
    const source = auth0Source.prepare(connectionOf());

    it('accepts the configured token whatever the scheme case', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        await expect(
          source.authenticate(requestOf({ authorization: `${scheme} ${TOKEN}` }), contextOf()),
        ).resolves.toBeUndefined();
      }
    });

    it.each([
      ['a wrong token', { authorization: 'Bearer not-the-token' }],
      ['no authorization header', {}],
      ['the token without a scheme', { authorization: TOKEN }],
      ['basic credentials', { authorization: basic(TOKEN) }],
      ['an empty bearer token', { authorization: 'Bearer ' }],
      ['the token in another header', { 'x-auth0-token': TOKEN }],
      ['a token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
    ])('throws SIGNATURE_INVALID for %s', async (_case, headers) => {
      const error = await expectCode(
        source.authenticate(requestOf(headers), contextOf()),
        'SIGNATURE_INVALID',
        401,
      );
      expect(error.message).not.toContain(TOKEN);
    });

    it('accepts either secret during a rotation', async () => {
      const rotating = auth0Source.prepare(
        connectionOf({}, [{ name: 'current' }, { name: 'next' }]),
      );
      const context = contextOf(fakeSecrets({ current: TOKEN, next: NEXT_TOKEN }));
      for (const token of [TOKEN, NEXT_TOKEN]) {
        await expect(
          rotating.authenticate(requestOf({ authorization: `Bearer ${token}` }), context),
        ).resolves.toBeUndefined();
      }
      await expectCode(
        rotating.authenticate(requestOf({ authorization: 'Bearer old-token' }), context),
        'SIGNATURE_INVALID',
      );
    });

    it('passes when one of two secrets cannot be read but the other matches', async () => {
      const rotating = auth0Source.prepare(
        connectionOf({}, [{ name: 'current' }, { name: 'next' }]),
      );
      const context = contextOf(fakeSecrets({ current: TOKEN }, ['next']));
      await expect(
        rotating.authenticate(requestOf({ authorization: `Bearer ${TOKEN}` }), context),
      ).resolves.toBeUndefined();
    });

    it('reports the secret failure, not a bad signature, when no secret could be compared', async () => {
      const context = contextOf(fakeSecrets({}, ['current']));
      await expectCode(
        source.authenticate(requestOf({ authorization: `Bearer ${TOKEN}` }), context),
        'SECRET_UNAVAILABLE',
      );
    });

    it('never accepts an empty credential against an empty secret', async () => {
      const context = contextOf(fakeSecrets({ current: '' }));
      await expectCode(
        source.authenticate(requestOf({ authorization: 'Bearer x' }), context),
        'SIGNATURE_INVALID',
      );
    });
  });

  describe('authenticate (basic)', () => {
    const source = auth0Source.prepare(connectionOf({ auth: 'basic' }));
    const context = contextOf(fakeSecrets({ current: 'auth0-user:s3cret:with-colon' }));

    it('accepts base64(user:pass) equal to the secret', async () => {
      await expect(
        source.authenticate(
          requestOf({ authorization: basic('auth0-user:s3cret:with-colon') }),
          context,
        ),
      ).resolves.toBeUndefined();
      await expect(
        source.authenticate(
          requestOf({
            authorization: `basic ${Buffer.from('auth0-user:s3cret:with-colon').toString('base64')}`,
          }),
          context,
        ),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['a wrong password', { authorization: basic('auth0-user:wrong') }],
      ['a bearer token', { authorization: 'Bearer auth0-user:s3cret:with-colon' }],
      ['malformed base64', { authorization: 'Basic !!!not-base64!!!' }],
      ['the plain credentials', { authorization: 'Basic auth0-user:s3cret:with-colon' }],
    ])('throws SIGNATURE_INVALID for %s', async (_case, headers) => {
      await expectCode(source.authenticate(requestOf(headers), context), 'SIGNATURE_INVALID', 401);
    });
  });

  describe('authenticate (custom header)', () => {
    const source = auth0Source.prepare(
      connectionOf({ auth: 'header', headerName: 'X-Auth0-Token' }),
    );
    const context = contextOf(fakeSecrets({ current: 'Token abc 123' }));

    it('accepts the configured header equal to the secret verbatim', async () => {
      await expect(
        source.authenticate(requestOf({ 'x-auth0-token': 'Token abc 123' }), context),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['a different value', { 'x-auth0-token': 'Token abc 124' }],
      ['only part of the value', { 'x-auth0-token': 'abc 123' }],
      ['the value in authorization', { authorization: 'Token abc 123' }],
    ])('throws SIGNATURE_INVALID for %s', async (_case, headers) => {
      await expectCode(source.authenticate(requestOf(headers), context), 'SIGNATURE_INVALID', 401);
    });

    it('does not read inherited properties for a header named like one', async () => {
      const odd = auth0Source.prepare(connectionOf({ auth: 'header', headerName: 'constructor' }));
      await expectCode(odd.authenticate(requestOf({}), context), 'SIGNATURE_INVALID', 401);
    });
  });

  describe('toChanges', () => {
    const source = auth0Source.prepare(connectionOf());

    it('gets the event parse returned, typed, and does not validate it again', async () => {
      const payload = event();
      const parsed = parse(source, payload);
      expect(parsed).toBe(payload);
      expect(parsed.data?.object?.user_id).toBe('auth0|65f0c0ffee1234567890abcd');
      // No spec version: parse() would refuse it, toChanges trusts what it is given.
      const given = { id: 'evt_given', type: 'user.updated', data: { object: { user_id: 'u9' } } };
      expect(() => parse(source, given)).toThrow(
        expect.objectContaining({ code: 'PAYLOAD_INVALID' }),
      );
      const outcome = await source.toChanges(given, requestOf({}), contextOf());
      expect(outcome.changes[0]).toMatchObject({
        eventId: 'evt_given',
        subject: { externalId: 'u9' },
      });
    });

    it('ignores a mapped event without a user object as no_user_in_event', async () => {
      const outcome = await source.toChanges(
        { id: 'evt_empty', type: 'user.updated', specversion: '1.0' },
        requestOf({}),
        contextOf(),
      );
      expect(outcome).toEqual({
        changes: [],
        ignored: [{ eventId: 'evt_empty', eventType: 'user.updated', reason: 'no_user_in_event' }],
      });
    });

    it('maps a user.updated event to one change', async () => {
      const payload = event();
      const outcome = await deliver(source, payload);
      expect(outcome.ignored).toEqual([]);
      expect(outcome.changes).toEqual([
        {
          connectionId: 'auth0',
          eventId: 'evt_7Hq2ExampleEvent',
          eventType: 'user.updated',
          occurredAt: '2025-03-01T08:15:29.800Z',
          subject: {
            externalId: 'auth0|65f0c0ffee1234567890abcd',
            email: 'jane@example.com',
            phone: '+8613800000000',
            userName: 'jdoe',
          },
          attributes: {
            userName: 'jdoe',
            email: 'jane@example.com',
            phone: '+8613800000000',
            nickname: 'jane',
            givenName: 'Jane',
            familyName: 'Doe',
            displayName: 'Jane Doe',
            address: '1 Example Rd',
            birthdate: '1990-05-17',
          },
          raw: payload.data.object,
        },
      ]);
    });

    it('accepts the spec_version and com.auth0.* spelling and normalises the type', async () => {
      const { specversion: _omit, ...rest } = event({ type: 'com.auth0.user.created' });
      const payload = {
        ...rest,
        spec_version: '1.0',
        dataschema: 'urn:auth0:schemas:user.created',
      };
      const outcome = await deliver(source, payload);
      expect(outcome.changes).toHaveLength(1);
      expect(outcome.changes[0]?.eventType).toBe('user.created');
    });

    it('ignores test events, even without a user object', async () => {
      const payload = { ...event({ a0purpose: 'test' }), data: {} };
      const outcome = await deliver(source, payload);
      expect(outcome).toEqual({
        changes: [],
        ignored: [
          { eventId: 'evt_7Hq2ExampleEvent', eventType: 'user.updated', reason: 'test_event' },
        ],
      });
    });

    it('ignores event types outside options.eventTypes without requiring a user', async () => {
      const payload = { ...event({ type: 'user.deleted' }), data: { object: { id: 'x' } } };
      const outcome = await deliver(source, payload);
      expect(outcome).toEqual({
        changes: [],
        ignored: [
          {
            eventId: 'evt_7Hq2ExampleEvent',
            eventType: 'user.deleted',
            reason: 'event_type_not_handled',
          },
        ],
      });
    });

    it('follows configured event types, in either spelling', async () => {
      const onlyCreated = auth0Source.prepare(
        connectionOf({ eventTypes: ['com.auth0.user.created'] }),
      );
      const updated = await deliver(onlyCreated, event());
      expect(updated.changes).toEqual([]);
      expect(updated.ignored).toEqual([
        expect.objectContaining({ eventType: 'user.updated', reason: 'event_type_not_handled' }),
      ]);
      const created = await deliver(onlyCreated, event({ type: 'user.created' }));
      expect(created.changes).toHaveLength(1);
    });

    it('falls back to the event time, then to now, for occurredAt', async () => {
      const noUpdatedAt = await deliver(source, event({}, { updated_at: undefined }));
      expect(noUpdatedAt.changes[0]?.occurredAt).toBe('2025-03-01T08:15:30.000Z');
      const neither = await deliver(source, event({ time: undefined }, { updated_at: null }));
      expect(neither.changes[0]?.occurredAt).toBe(new Date(NOW).toISOString());
    });

    it('uses name as nickname when nickname is missing and leaves out absent fields', async () => {
      const payload = event(
        {},
        {
          nickname: null,
          email: undefined,
          phone_number: '',
          username: undefined,
          given_name: undefined,
          user_metadata: null,
        },
      );
      const outcome = await deliver(source, payload);
      expect(outcome.changes[0]?.attributes).toEqual({
        nickname: 'Jane Doe',
        familyName: 'Doe',
        displayName: 'Jane Doe',
      });
      expect(outcome.changes[0]?.subject).toEqual({ externalId: 'auth0|65f0c0ffee1234567890abcd' });
    });

    it('skips user_metadata members of the wrong type instead of failing the delivery', async () => {
      const payload = event(
        {},
        { user_metadata: { address: { street: 'x' }, birthdate: Number.POSITIVE_INFINITY } },
      );
      const outcome = await deliver(source, payload);
      expect(outcome.changes[0]?.attributes.address).toBeUndefined();
      expect(outcome.changes[0]?.attributes.birthdate).toBeUndefined();
      const epoch = event({}, { user_metadata: { birthdate: 642902400000 } });
      const epochOutcome = await deliver(source, epoch);
      expect(epochOutcome.changes[0]?.attributes.birthdate).toBe(642902400000);
    });

    it('maps the demo fixture end to end', async () => {
      const request = readRequest('auth0.user-updated');
      await source.authenticate(request, contextOf());
      const payload: unknown = JSON.parse(request.rawBody.toString('utf8'));
      const outcome = await deliver(source, payload, request);
      expect(outcome.changes).toHaveLength(1);
      expect(outcome.changes[0]).toMatchObject({
        connectionId: 'auth0',
        eventType: 'user.updated',
        subject: { externalId: 'ext-alice', email: 'alice@example.com' },
      });
    });
  });

  describe('parse (bad input corpus)', () => {
    const source = auth0Source.prepare(connectionOf());
    const corpus: [string, string][] = [
      ['null', 'null'],
      ['an array', '[]'],
      ['a string', '"user.updated"'],
      ['a number', '42'],
      ['an empty object', '{}'],
      ['a missing id', JSON.stringify({ ...event(), id: undefined })],
      ['a numeric id', JSON.stringify(event({ id: 12345 }))],
      ['a huge numeric id', JSON.stringify(event()).replace('"evt_7Hq2ExampleEvent"', '1e400')],
      ['an empty id', JSON.stringify(event({ id: '' }))],
      ['a missing type', JSON.stringify({ ...event(), type: undefined })],
      ['a non-string type', JSON.stringify(event({ type: ['user.updated'] }))],
      ['no spec version', JSON.stringify({ ...event(), specversion: undefined })],
      ['a non-string time', JSON.stringify(event({ time: 1740816930000 }))],
      ['no data', JSON.stringify({ ...event(), data: undefined })],
      ['data as a string', JSON.stringify(event({ data: 'x' }))],
      ['no data.object', JSON.stringify(event({ data: {} }))],
      ['data.object as an array', JSON.stringify(event({ data: { object: [] } }))],
      ['no user_id', JSON.stringify(event({}, { user_id: undefined }))],
      ['a numeric user_id', JSON.stringify(event({}, { user_id: 987654321 }))],
      [
        'a huge numeric user_id',
        JSON.stringify(event({}, { user_id: 1 })).replace('"user_id":1', '"user_id":1e999'),
      ],
      ['an empty user_id', JSON.stringify(event({}, { user_id: '' }))],
      ['a numeric email', JSON.stringify(event({}, { email: 1 }))],
      ['a phone_number object', JSON.stringify(event({}, { phone_number: { number: '+1' } }))],
      ['a boolean name', JSON.stringify(event({}, { name: true }))],
      ['a string user_metadata', JSON.stringify(event({}, { user_metadata: 'x' }))],
      ['a numeric updated_at', JSON.stringify(event({}, { updated_at: 1e300 }))],
      [
        'user_id only under __proto__',
        '{"id":"evt_1","specversion":"1.0","type":"user.updated","data":{"object":{"__proto__":{"user_id":"evil"}}}}',
      ],
      [
        'the envelope only under __proto__',
        '{"__proto__":{"id":"evt_1","specversion":"1.0","type":"user.updated"}}',
      ],
    ];

    it.each(corpus)('rejects %s with 400 PAYLOAD_INVALID and paths', (_case, body) => {
      const error = validationError(() => parse(source, JSON.parse(body)));
      expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', statusCode: 400, expose: true });
      expect(Array.isArray(error.details)).toBe(true);
      for (const detail of error.details as unknown[]) {
        expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
      }
    });

    it('caps the event id at 256 characters, naming the field and not quoting it', () => {
      const longId = `evt_${'x'.repeat(253)}`;
      const error = validationError(() => parse(source, event({ id: longId })));
      expect(error).toMatchObject({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: [{ path: '/id', message: expect.any(String) }],
      });
      expect(JSON.stringify(error.details)).not.toContain(longId);
      expect(error.message).not.toContain(longId);
      expect(parse(source, event({ id: longId.slice(1) })).id).toHaveLength(256);
    });

    it('points details at the offending field', () => {
      const error = validationError(() => parse(source, event({}, { user_id: undefined })));
      expect(error.details).toContainEqual(
        expect.objectContaining({ path: '/data/object/user_id' }),
      );
    });

    it('keeps personal data out of validation details', () => {
      const error = validationError(() =>
        parse(source, event({}, { email: ['jane@example.com'] })),
      );
      expect(JSON.stringify(error.details)).not.toContain('jane@example.com');
      expect(error.message).not.toContain('jane@example.com');
    });

    it('does not let __proto__ keys pollute Object.prototype', async () => {
      const body =
        '{"id":"evt_p","specversion":"1.0","type":"user.updated","__proto__":{"polluted":"yes"},' +
        '"data":{"object":{"user_id":"u1","__proto__":{"isAdmin":true},' +
        '"user_metadata":{"__proto__":{"address":"evil"},"constructor":{"prototype":{"x":1}}}}}}';
      const payload: unknown = JSON.parse(body);
      const outcome = await deliver(source, payload);
      expect(outcome.changes[0]?.attributes).toEqual({});
      expect(outcome.changes[0]?.subject).toEqual({ externalId: 'u1' });
      const probe: Record<string, unknown> = {};
      expect(probe.polluted).toBeUndefined();
      expect(probe.isAdmin).toBeUndefined();
      expect(probe.address).toBeUndefined();
      expect(probe.x).toBeUndefined();
    });
  });
});
