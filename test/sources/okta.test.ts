import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/config/types.ts';
import { AdapterError } from '../../lib/errors.ts';
import type { SecretSource } from '../../lib/secrets/types.ts';
import { oktaSource } from '../../lib/sources/okta/index.ts';
import type { OktaEventHook } from '../../lib/sources/okta/schema.ts';
import type { InboundRequest, PreparedSource, SourceContext } from '../../lib/sources/types.ts';
import { readRequest } from '../helpers/events.ts';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { fakeSecrets, sourceContext } from '../helpers/sources.ts';

const HOOK_SECRET = 'demo-okta-hook-secret';
const NEXT_HOOK_SECRET = 'next-okta-hook-secret';
const API_TOKEN = '00demoOktaApiToken';
const NOW = Date.parse('2025-06-01T12:00:00.000Z');

const defaultSecrets = () =>
  fakeSecrets({ hook: HOOK_SECRET, next: NEXT_HOOK_SECRET, 'okta-api': API_TOKEN });

const contextOf = (
  secrets: SecretSource = defaultSecrets(),
  extra: Partial<SourceContext> = {},
): SourceContext => sourceContext(NOW, secrets, extra);

const connectionOf = (
  options: Record<string, unknown>,
  secrets: Partial<Connection['secrets']> = {},
): Connection => ({
  id: 'okta',
  source: 'okta',
  userStoreId: 'store-1',
  secrets: { signing: [{ name: 'hook' }], apiToken: { name: 'okta-api' }, ...secrets },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'queued',
  options,
});

const requestOf = (headers: Record<string, string>, method = 'POST'): InboundRequest => ({
  method,
  path: '/webhooks/okta',
  headers,
  query: {},
  rawBody: Buffer.alloc(0),
});

interface LogEventInput {
  uuid?: string;
  eventType?: string;
  userId?: string | null;
  published?: string;
  extraTargets?: unknown[];
}

const logEvent = ({
  uuid = 'a1b2c3d4-0000-11ef-8000-0123456789ab',
  eventType = 'user.account.update_profile',
  userId = '00u1abcd2EFGH3ijk4l5',
  published = '2024-05-01T10:00:00.512Z',
  extraTargets = [],
}: LogEventInput = {}) => ({
  uuid,
  published,
  eventType,
  version: '0',
  displayMessage: 'Update user profile for Okta',
  severity: 'INFO',
  actor: {
    id: '00uadmin123',
    type: 'User',
    alternateId: 'admin@example.com',
    displayName: 'Admin',
  },
  outcome: { result: 'SUCCESS', reason: null },
  target: [
    ...(userId === null
      ? []
      : [{ id: userId, type: 'User', alternateId: 'jane@example.com', displayName: 'Jane Doe' }]),
    ...extraTargets,
  ],
  debugContext: { debugData: { requestId: 'ZjJexampleTxn' } },
});

const hook = (events: unknown[], overrides: Record<string, unknown> = {}) => ({
  eventType: 'com.okta.event_hook',
  eventTypeVersion: '1.0',
  cloudEventsVersion: '0.1',
  source: 'https://example.okta.com/api/v1/eventHooks/who8exampleHook1d7',
  eventId: '3f6e0c8e-5b7a-4c5e-9d0e-2a1b3c4d5e6f',
  eventTime: '2024-05-01T10:00:02.120Z',
  contentType: 'application/json',
  data: { events },
  ...overrides,
});

/** The runtime's order: parse once, then toChanges with what parse returned. */
const deliver = async (
  source: PreparedSource<OktaEventHook>,
  payload: unknown,
  context: SourceContext = contextOf(),
  request: InboundRequest = requestOf({}),
) => source.toChanges(source.parse(payload, request), request, context);

const catchError = async (promise: Promise<unknown>): Promise<AdapterError> => {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
};

const catchSync = (run: () => unknown): AdapterError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterError);
    return error as AdapterError;
  }
  throw new Error('expected a throw');
};

describe('oktaSource', () => {
  let okta: FakeOkta;

  beforeAll(async () => {
    okta = await startFakeOkta({ apiToken: API_TOKEN });
  });

  afterAll(async () => {
    await okta.close();
  });

  beforeEach(() => {
    okta.requests.length = 0;
    okta.users.clear();
    okta.behave('ok');
    okta.users.set(
      '00u1abcd2EFGH3ijk4l5',
      oktaUser('00u1abcd2EFGH3ijk4l5', {
        login: 'jane@example.com',
        email: 'jane@example.com',
        firstName: 'Jane',
        lastName: 'Doe',
        nickName: 'JD',
        displayName: 'Jane Doe',
        mobilePhone: '+8613800000000',
        primaryPhone: '+8613800000001',
        streetAddress: '1 Example Rd',
        city: 'Singapore',
        state: null,
        zipCode: '018956',
        countryCode: 'SG',
      }),
    );
  });

  const prepare = (
    options: Record<string, unknown> = {},
    secrets: Partial<Connection['secrets']> = {},
  ) => oktaSource.prepare(connectionOf({ orgUrl: okta.orgUrl, ...options }, secrets));

  describe('prepare', () => {
    it('exports a closed options schema', () => {
      expect(oktaSource.type).toBe('okta');
      expect(oktaSource.optionsSchema).toMatchObject({
        type: 'object',
        additionalProperties: false,
      });
    });

    it.each([
      ['no orgUrl', {}],
      ['an unknown option', { orgUrl: 'https://example.okta.com', token: 'x' }],
      ['a non-URL orgUrl', { orgUrl: 'example.okta.com' }],
      ['an unparseable orgUrl', { orgUrl: 'https://exa mple.okta.com' }],
      ['plain http to a remote host', { orgUrl: 'http://example.okta.com' }],
      ['an orgUrl with a path', { orgUrl: 'https://example.okta.com/api/v1' }],
      ['an orgUrl with a query', { orgUrl: 'https://example.okta.com/?x=1' }],
      ['an orgUrl with credentials', { orgUrl: 'https://user:pw@example.okta.com' }],
      [
        'an unknown verification mode',
        { orgUrl: 'https://example.okta.com', verification: 'always' },
      ],
      ['a fractional timeout', { orgUrl: 'https://example.okta.com', usersApiTimeoutMs: 1.5 }],
      ['a zero timeout', { orgUrl: 'https://example.okta.com', usersApiTimeoutMs: 0 }],
      ['an empty event type list', { orgUrl: 'https://example.okta.com', eventTypes: [] }],
    ])('throws CONFIG_INVALID for %s', (_case, options) => {
      expect(() => oktaSource.prepare(connectionOf(options))).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('throws CONFIG_INVALID without an API token secret', () => {
      const connection = connectionOf({ orgUrl: 'https://example.okta.com' });
      const { apiToken: _omit, ...secrets } = connection.secrets;
      expect(() => oktaSource.prepare({ ...connection, secrets })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    });

    it('throws CONFIG_INVALID without a signing secret or with more than two', () => {
      expect(() =>
        oktaSource.prepare(connectionOf({ orgUrl: 'https://example.okta.com' }, { signing: [] })),
      ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      const three = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
      expect(() =>
        oktaSource.prepare(
          connectionOf({ orgUrl: 'https://example.okta.com' }, { signing: three }),
        ),
      ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    });

    it('accepts https orgs, a trailing slash, and http on loopback', () => {
      for (const orgUrl of [
        'https://example.okta.com',
        'https://example.okta.com/',
        'https://login.example.com:8443',
        'http://127.0.0.1:8080',
        'http://localhost:8080/',
      ]) {
        expect(() => oktaSource.prepare(connectionOf({ orgUrl }))).not.toThrow();
      }
    });
  });

  describe('handshake', () => {
    const challenge = { 'x-okta-verification-challenge': 'Qm9vT2t0YUNoYWxsZW5nZQ' };

    it('echoes the challenge without an auth header by default', async () => {
      const reply = await prepare().handshake?.(requestOf(challenge, 'GET'), contextOf());
      expect(reply).toEqual({ statusCode: 200, body: { verification: 'Qm9vT2t0YUNoYWxsZW5nZQ' } });
    });

    it('checks the auth header by default when it is present', async () => {
      const source = prepare();
      const good = { ...challenge, authorization: HOOK_SECRET };
      await expect(source.handshake?.(requestOf(good, 'GET'), contextOf())).resolves.toMatchObject({
        statusCode: 200,
      });
      const bad = { ...challenge, authorization: 'wrong' };
      const error = await catchError(
        Promise.resolve(source.handshake?.(requestOf(bad, 'GET'), contextOf())),
      );
      expect(error).toMatchObject({ code: 'SIGNATURE_INVALID', statusCode: 401 });
    });

    it('requires the auth header when verification is required', async () => {
      const source = prepare({ verification: 'required' });
      const missing = await catchError(
        Promise.resolve(source.handshake?.(requestOf(challenge, 'GET'), contextOf())),
      );
      expect(missing).toMatchObject({ code: 'SIGNATURE_INVALID', statusCode: 401 });
      const reply = await source.handshake?.(
        requestOf({ ...challenge, authorization: HOOK_SECRET }, 'GET'),
        contextOf(),
      );
      expect(reply?.body).toEqual({ verification: 'Qm9vT2t0YUNoYWxsZW5nZQ' });
    });

    it('skips the auth check when verification is none', async () => {
      const source = prepare({ verification: 'none' });
      const reply = await source.handshake?.(
        requestOf({ ...challenge, authorization: 'wrong' }, 'GET'),
        contextOf(),
      );
      expect(reply?.statusCode).toBe(200);
    });

    it('refuses a challenge longer than 256 characters instead of echoing it', async () => {
      const long = 'Q'.repeat(257);
      const error = await catchError(
        Promise.resolve(
          prepare().handshake?.(
            requestOf({ 'x-okta-verification-challenge': long }, 'GET'),
            contextOf(),
          ),
        ),
      );
      expect(error).toMatchObject({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: [{ path: '/headers/x-okta-verification-challenge', message: expect.any(String) }],
      });
      expect(JSON.stringify(error.details)).not.toContain(long);
      const reply = await prepare().handshake?.(
        requestOf({ 'x-okta-verification-challenge': long.slice(1) }, 'GET'),
        contextOf(),
      );
      expect(reply?.body).toEqual({ verification: long.slice(1) });
    });

    it('throws 400 PAYLOAD_INVALID without a challenge header', async () => {
      for (const headers of [{}, { 'x-okta-verification-challenge': '' }]) {
        const error = await catchError(
          Promise.resolve(prepare().handshake?.(requestOf(headers, 'GET'), contextOf())),
        );
        expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', statusCode: 400 });
      }
    });

    it('answers the demo verification fixture', async () => {
      const request = readRequest('okta.verification');
      const reply = await prepare({ verification: 'required' }).handshake?.(request, contextOf());
      expect(reply).toEqual({ statusCode: 200, body: { verification: 'Qm9vT2t0YUNoYWxsZW5nZQ' } });
    });
  });

  describe('authenticate', () => {
    it('accepts the configured secret verbatim', async () => {
      await expect(
        prepare().authenticate(requestOf({ authorization: HOOK_SECRET }), contextOf()),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['a wrong secret', { authorization: 'not-the-secret' }],
      ['no header', {}],
      ['a Bearer scheme Okta does not add', { authorization: `Bearer ${HOOK_SECRET}` }],
      ['a prefix of the secret', { authorization: HOOK_SECRET.slice(0, -1) }],
      ['the secret in another header', { 'x-okta-secret': HOOK_SECRET }],
    ])('throws SIGNATURE_INVALID for %s', async (_case, headers) => {
      const error = await catchError(prepare().authenticate(requestOf(headers), contextOf()));
      expect(error).toMatchObject({ code: 'SIGNATURE_INVALID', statusCode: 401 });
      expect(error.message).not.toContain(HOOK_SECRET);
    });

    it('reads a custom header name', async () => {
      const source = prepare({ headerName: 'X-Okta-Secret' });
      await expect(
        source.authenticate(requestOf({ 'x-okta-secret': HOOK_SECRET }), contextOf()),
      ).resolves.toBeUndefined();
      const error = await catchError(
        source.authenticate(requestOf({ authorization: HOOK_SECRET }), contextOf()),
      );
      expect(error).toMatchObject({ code: 'SIGNATURE_INVALID' });
    });

    it('accepts either secret during a rotation', async () => {
      const source = prepare({}, { signing: [{ name: 'hook' }, { name: 'next' }] });
      for (const secret of [HOOK_SECRET, NEXT_HOOK_SECRET]) {
        await expect(
          source.authenticate(requestOf({ authorization: secret }), contextOf()),
        ).resolves.toBeUndefined();
      }
      const error = await catchError(
        source.authenticate(requestOf({ authorization: 'retired-secret' }), contextOf()),
      );
      expect(error).toMatchObject({ code: 'SIGNATURE_INVALID' });
    });

    it('reports an unreadable secret rather than a bad signature', async () => {
      const secrets = fakeSecrets({}, ['hook']);
      const error = await catchError(
        prepare().authenticate(requestOf({ authorization: HOOK_SECRET }), contextOf(secrets)),
      );
      expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    });
  });

  describe('toChanges', () => {
    it('fetches the profile from the Users API and maps it', async () => {
      const source = prepare();
      const payload = hook([logEvent()]);
      const outcome = await deliver(source, payload);
      expect(outcome.ignored).toEqual([]);
      expect(outcome.changes).toEqual([
        {
          connectionId: 'okta',
          eventId: 'a1b2c3d4-0000-11ef-8000-0123456789ab',
          eventType: 'user.account.update_profile',
          occurredAt: '2024-05-01T10:00:00.512Z',
          subject: {
            externalId: '00u1abcd2EFGH3ijk4l5',
            email: 'jane@example.com',
            phone: '+8613800000000',
            userName: 'jane@example.com',
          },
          attributes: {
            userName: 'jane@example.com',
            email: 'jane@example.com',
            phone: '+8613800000000',
            nickname: 'JD',
            givenName: 'Jane',
            familyName: 'Doe',
            displayName: 'Jane Doe',
            address: '1 Example Rd, Singapore, 018956, SG',
          },
          raw: okta.users.get('00u1abcd2EFGH3ijk4l5'),
        },
      ]);
      expect(okta.requests).toEqual([
        {
          method: 'GET',
          path: '/api/v1/users/00u1abcd2EFGH3ijk4l5',
          userId: '00u1abcd2EFGH3ijk4l5',
          authorization: `SSWS ${API_TOKEN}`,
          accept: 'application/json',
        },
      ]);
    });

    it('fetches each distinct user once per batch and keeps one change per event', async () => {
      okta.users.set('00u2other', oktaUser('00u2other', { firstName: 'Ola', lastName: 'Other' }));
      const payload = hook([
        logEvent({ uuid: 'e1' }),
        logEvent({ uuid: 'e2', eventType: 'user.lifecycle.activate', userId: '00u2other' }),
        logEvent({ uuid: 'e3', published: '2024-05-01T10:00:01.000Z' }),
        logEvent({ uuid: 'e4', eventType: 'user.lifecycle.create' }),
      ]);
      const outcome = await deliver(prepare(), payload);
      expect(outcome.changes.map((change) => [change.eventId, change.subject.externalId])).toEqual([
        ['e1', '00u1abcd2EFGH3ijk4l5'],
        ['e2', '00u2other'],
        ['e3', '00u1abcd2EFGH3ijk4l5'],
        ['e4', '00u1abcd2EFGH3ijk4l5'],
      ]);
      expect(outcome.changes[2]?.occurredAt).toBe('2024-05-01T10:00:01.000Z');
      expect(okta.requests.map((request) => request.userId).sort()).toEqual([
        '00u1abcd2EFGH3ijk4l5',
        '00u2other',
      ]);
    });

    it('ignores unsubscribed types and events without a User target, without calling Okta', async () => {
      const secrets = defaultSecrets();
      const payload = hook([
        logEvent({ uuid: 'e1', eventType: 'user.session.start' }),
        logEvent({
          uuid: 'e2',
          userId: null,
          extraTargets: [{ id: '00g1group', type: 'UserGroup', alternateId: 'Sales' }],
        }),
        { ...logEvent({ uuid: 'e3' }), target: null },
      ]);
      const outcome = await deliver(prepare(), payload, contextOf(secrets));
      expect(outcome.changes).toEqual([]);
      expect(outcome.ignored).toEqual([
        { eventId: 'e1', eventType: 'user.session.start', reason: 'event_type_not_handled' },
        { eventId: 'e2', eventType: 'user.account.update_profile', reason: 'no_user_in_event' },
        { eventId: 'e3', eventType: 'user.account.update_profile', reason: 'no_user_in_event' },
      ]);
      expect(okta.requests).toEqual([]);
      expect(secrets.reads).not.toContain('okta-api');
    });

    it('finds the User among several targets', async () => {
      const payload = hook([
        logEvent({
          uuid: 'g1',
          eventType: 'user.lifecycle.reactivate',
          userId: null,
          extraTargets: [
            { id: '00g1group', type: 'UserGroup' },
            { id: '00u1abcd2EFGH3ijk4l5', type: 'User' },
          ],
        }),
      ]);
      const outcome = await deliver(prepare(), payload);
      expect(outcome.changes.map((change) => change.subject.externalId)).toEqual([
        '00u1abcd2EFGH3ijk4l5',
      ]);
    });

    it('follows configured event types', async () => {
      const source = prepare({ eventTypes: ['user.lifecycle.deactivate'] });
      const payload = hook([
        logEvent({ uuid: 'e1' }),
        logEvent({ uuid: 'e2', eventType: 'user.lifecycle.deactivate' }),
      ]);
      const outcome = await deliver(source, payload);
      expect(outcome.changes.map((change) => change.eventId)).toEqual(['e2']);
      expect(outcome.ignored.map((ignored) => ignored.eventId)).toEqual(['e1']);
    });

    it('falls back to the delivery id plus index, and to eventTime, when fields are missing', async () => {
      const { uuid: _u, published: _p, ...bare } = logEvent();
      const outcome = await deliver(prepare(), hook([logEvent({ uuid: 'x' }), bare]));
      expect(outcome.changes[1]).toMatchObject({
        eventId: '3f6e0c8e-5b7a-4c5e-9d0e-2a1b3c4d5e6f:1',
        occurredAt: '2024-05-01T10:00:02.120Z',
      });
      const { eventTime: _t, ...noTime } = hook([bare]);
      const late = await deliver(prepare(), noTime);
      expect(late.changes[0]?.occurredAt).toBe(new Date(NOW).toISOString());
    });

    it('ignores an event whose user no longer exists (404) and keeps the rest', async () => {
      const payload = hook([
        logEvent({ uuid: 'gone', userId: '00u9deleted' }),
        logEvent({ uuid: 'here' }),
      ]);
      const outcome = await deliver(prepare(), payload);
      expect(outcome.changes.map((change) => change.eventId)).toEqual(['here']);
      expect(outcome.ignored).toEqual([
        {
          eventId: 'gone',
          eventType: 'user.account.update_profile',
          reason: 'user_not_found_at_source',
        },
      ]);
    });

    it.each([
      [401, 'SOURCE_REJECTED', 502],
      [403, 'SOURCE_REJECTED', 502],
      [429, 'SOURCE_UNAVAILABLE', 503],
      [500, 'SOURCE_UNAVAILABLE', 503],
      [503, 'SOURCE_UNAVAILABLE', 503],
    ] as const)('maps a Users API %i to %s', async (status, code, statusCode) => {
      okta.behave(status);
      const error = await catchError(deliver(prepare(), hook([logEvent()])));
      expect(error).toMatchObject({ code, statusCode });
      if (code === 'SOURCE_UNAVAILABLE') expect(error.headers).toEqual({ 'retry-after': '5' });
      expect(error.message).not.toContain(API_TOKEN);
    });

    it('treats a wrong API token as SOURCE_REJECTED', async () => {
      const secrets = fakeSecrets({ hook: HOOK_SECRET, 'okta-api': 'revoked-token' });
      const error = await catchError(deliver(prepare(), hook([logEvent()]), contextOf(secrets)));
      expect(error).toMatchObject({ code: 'SOURCE_REJECTED', statusCode: 502 });
      expect(error.message).not.toContain('revoked-token');
    });

    it('fails the whole delivery when one user of the batch fails', async () => {
      okta.users.set('00u2other', oktaUser('00u2other'));
      okta.behave(500, '00u2other');
      const payload = hook([
        logEvent({ uuid: 'e1' }),
        logEvent({ uuid: 'e2', userId: '00u2other' }),
      ]);
      const error = await catchError(deliver(prepare(), payload));
      expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', statusCode: 503 });
    });

    it('gives up with SOURCE_UNAVAILABLE when Okta is too slow', async () => {
      okta.behave('slow');
      const error = await catchError(
        deliver(prepare({ usersApiTimeoutMs: 50 }), hook([logEvent()])),
      );
      expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', statusCode: 503 });
      expect(error.headers).toEqual({ 'retry-after': '5' });
    });

    it('stops when the caller aborts', async () => {
      okta.behave('slow');
      const controller = new AbortController();
      const pending = deliver(
        prepare({ usersApiTimeoutMs: 60_000 }),
        hook([logEvent()]),
        contextOf(defaultSecrets(), { signal: controller.signal }),
      );
      controller.abort();
      const error = await catchError(pending);
      expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    });

    it('reports an unreachable Okta as SOURCE_UNAVAILABLE', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const source = oktaSource.prepare(connectionOf({ orgUrl: `http://127.0.0.1:${port}` }));
      const error = await catchError(deliver(source, hook([logEvent()])));
      expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', statusCode: 503 });
    });

    it('reports a body that is not a user as SOURCE_REJECTED', async () => {
      okta.behave('not-json');
      const notJson = await catchError(deliver(prepare(), hook([logEvent()])));
      expect(notJson).toMatchObject({ code: 'SOURCE_REJECTED' });
      okta.behave('ok');
      okta.users.set('00u1abcd2EFGH3ijk4l5', {
        id: '00u1abcd2EFGH3ijk4l5',
        status: 'ACTIVE',
        profile: 'x',
      } as never);
      const wrongShape = await catchError(deliver(prepare(), hook([logEvent()])));
      expect(wrongShape).toMatchObject({ code: 'SOURCE_REJECTED' });
    });

    it('does not follow redirects that would carry the API token elsewhere', async () => {
      const elsewhere: string[] = [];
      const redirector = createServer((request, response) => {
        if (request.url?.startsWith('/stolen')) {
          elsewhere.push(String(request.headers.authorization));
          response.end('{}');
          return;
        }
        response.writeHead(302, { location: `http://localhost:${port}/stolen` });
        response.end();
      });
      await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
      const { port } = redirector.address() as AddressInfo;
      try {
        const source = oktaSource.prepare(connectionOf({ orgUrl: `http://127.0.0.1:${port}` }));
        const error = await catchError(deliver(source, hook([logEvent()])));
        expect(error).toMatchObject({ code: 'SOURCE_REJECTED' });
        expect(elsewhere).toEqual([]);
      } finally {
        redirector.closeAllConnections();
        await new Promise<void>((resolve) => redirector.close(() => resolve()));
      }
    });

    it('URL-encodes the user id', async () => {
      okta.users.set('00u/..?x=1#y', oktaUser('00u/..?x=1#y'));
      const outcome = await deliver(prepare(), hook([logEvent({ userId: '00u/..?x=1#y' })]));
      expect(outcome.changes).toHaveLength(1);
      expect(okta.requests[0]?.path).toBe('/api/v1/users/00u%2F..%3Fx%3D1%23y');
    });

    it('falls back through nickname, phone and address sources', async () => {
      const cases: [Record<string, unknown>, Record<string, unknown>][] = [
        [
          { nickName: null, displayName: 'Jane D', mobilePhone: '', primaryPhone: '+6590000000' },
          { nickname: 'Jane D', phone: '+6590000000' },
        ],
        [
          { nickName: null, displayName: null, firstName: 'Jane', lastName: null },
          { nickname: 'Jane' },
        ],
        [
          {
            nickName: '',
            displayName: '',
            firstName: 'Jane',
            lastName: 'Doe',
            city: 'Paris',
            countryCode: 'FR',
          },
          { nickname: 'Jane Doe', address: 'Paris, FR' },
        ],
      ];
      for (const [profile, expected] of cases) {
        okta.users.set(
          '00u3fallback',
          oktaUser('00u3fallback', { streetAddress: null, ...profile }),
        );
        const outcome = await deliver(prepare(), hook([logEvent({ userId: '00u3fallback' })]));
        expect(outcome.changes[0]?.attributes).toMatchObject(expected);
      }
      okta.users.set('00u4empty', { id: '00u4empty', status: 'ACTIVE', profile: { login: 7 } });
      const empty = await deliver(prepare(), hook([logEvent({ userId: '00u4empty' })]));
      expect(empty.changes[0]?.attributes).toEqual({});
      expect(empty.changes[0]?.subject).toEqual({ externalId: '00u4empty' });
    });

    it('maps the demo fixture end to end', async () => {
      okta.users.set(
        'ext-bob',
        oktaUser('ext-bob', {
          login: 'bob@example.com',
          email: 'bob@example.com',
          firstName: 'Bob',
          lastName: 'Baker',
        }),
      );
      const source = prepare();
      const request = readRequest('okta.user-updated');
      await source.authenticate(request, contextOf());
      const payload: unknown = JSON.parse(request.rawBody.toString('utf8'));
      const outcome = await deliver(source, payload, contextOf(), request);
      expect(outcome.changes).toHaveLength(1);
      expect(outcome.changes[0]).toMatchObject({
        connectionId: 'okta',
        eventType: 'user.account.update_profile',
        subject: { externalId: 'ext-bob', email: 'bob@example.com', userName: 'bob@example.com' },
        attributes: { nickname: 'Bob Baker' },
      });
    });
  });

  describe('parse (bad input corpus)', () => {
    let source: PreparedSource<OktaEventHook>;
    beforeAll(() => {
      source = prepare();
    });

    const valid = () => hook([logEvent()]);
    const corpus: [string, () => string][] = [
      ['null', () => 'null'],
      ['an array', () => '[]'],
      ['a string', () => '"com.okta.event_hook"'],
      ['an empty object', () => '{}'],
      ['another envelope type', () => JSON.stringify({ ...valid(), eventType: 'com.okta.other' })],
      ['a missing eventId', () => JSON.stringify({ ...valid(), eventId: undefined })],
      ['a numeric eventId', () => JSON.stringify({ ...valid(), eventId: 42 })],
      [
        'a huge numeric eventId',
        () => JSON.stringify(valid()).replace('"3f6e0c8e-5b7a-4c5e-9d0e-2a1b3c4d5e6f"', '1e400'),
      ],
      ['no data', () => JSON.stringify({ ...valid(), data: undefined })],
      [
        'events as an object',
        () => JSON.stringify({ ...valid(), data: { events: { 0: logEvent() } } }),
      ],
      ['a null event', () => JSON.stringify(hook([null]))],
      [
        'an event without eventType',
        () => JSON.stringify(hook([{ ...logEvent(), eventType: undefined }])),
      ],
      ['a numeric uuid', () => JSON.stringify(hook([{ ...logEvent(), uuid: 7 }]))],
      [
        'a numeric published',
        () => JSON.stringify(hook([logEvent()])).replace('"2024-05-01T10:00:00.512Z"', '1e999'),
      ],
      ['target as a string', () => JSON.stringify(hook([{ ...logEvent(), target: 'User' }]))],
      [
        'a User target without id',
        () => JSON.stringify(hook([{ ...logEvent(), target: [{ type: 'User' }] }])),
      ],
      [
        'a User target with a numeric id',
        () => JSON.stringify(hook([{ ...logEvent(), target: [{ type: 'User', id: 12 }] }])),
      ],
      ['a User target with an empty id', () => JSON.stringify(hook([logEvent({ userId: '' })]))],
      [
        'events only under __proto__',
        () =>
          '{"eventType":"com.okta.event_hook","eventId":"x","data":{"__proto__":{"events":[]}}}',
      ],
      [
        'the envelope only under __proto__',
        () =>
          '{"__proto__":{"eventType":"com.okta.event_hook","eventId":"x","data":{"events":[]}}}',
      ],
    ];

    it.each(corpus)('rejects %s with 400 PAYLOAD_INVALID and paths', (_case, body) => {
      const error = catchSync(() => source.parse(JSON.parse(body()), requestOf({})));
      expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', statusCode: 400, expose: true });
      expect(Array.isArray(error.details)).toBe(true);
      for (const detail of error.details as unknown[]) {
        expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
      }
    });

    it.each([
      ['eventId', (id: string) => hook([logEvent()], { eventId: id }), '/eventId'],
      ['a uuid', (id: string) => hook([logEvent({ uuid: id })]), '/data/events/0/uuid'],
      [
        'a User target id',
        (id: string) => hook([logEvent({ userId: id })]),
        '/data/events/0/target/0/id',
      ],
    ])('caps %s at 256 characters, naming the field and not quoting it', (_case, build, path) => {
      const longId = `id${'x'.repeat(255)}`;
      const error = catchSync(() => source.parse(build(longId), requestOf({})));
      expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', statusCode: 400 });
      expect(error.details).toContainEqual({ path, message: expect.any(String) });
      expect(JSON.stringify(error.details)).not.toContain(longId);
      expect(() => source.parse(build(longId.slice(1)), requestOf({}))).not.toThrow();
    });

    it('gets the hook parse returned and does not validate it again', async () => {
      const payload = hook([logEvent()]);
      const parsed = source.parse(payload, requestOf({}));
      expect(parsed).toBe(payload);
      expect(parsed.data.events[0]?.uuid).toBe('a1b2c3d4-0000-11ef-8000-0123456789ab');
      // An empty event type: parse() would refuse it, toChanges trusts what it is given.
      const given: OktaEventHook = {
        eventType: 'com.okta.event_hook',
        eventId: 'given',
        data: {
          events: [{ uuid: 'e-empty', eventType: '', target: [{ id: '00u1', type: 'User' }] }],
        },
      };
      expect(() => source.parse(given, requestOf({}))).toThrow(
        expect.objectContaining({ code: 'PAYLOAD_INVALID' }),
      );
      const outcome = await source.toChanges(given, requestOf({}), contextOf());
      expect(outcome).toEqual({
        changes: [],
        ignored: [{ eventId: 'e-empty', eventType: '', reason: 'event_type_not_handled' }],
      });
    });

    it('refuses an invalid payload in parse, before any Users API call', async () => {
      const error = await catchError(deliver(source, { eventType: 'x' }));
      expect(error).toMatchObject({ code: 'PAYLOAD_INVALID', statusCode: 400 });
      expect(okta.requests).toEqual([]);
    });

    it('accepts an empty batch and a null target', async () => {
      const nullTarget = hook([{ ...logEvent(), target: null }]);
      expect(source.parse(nullTarget, requestOf({}))).toBe(nullTarget);
      const outcome = await deliver(source, hook([]));
      expect(outcome).toEqual({ changes: [], ignored: [] });
    });

    it('does not let __proto__ keys pollute Object.prototype', async () => {
      const body =
        '{"eventType":"com.okta.event_hook","eventId":"d1","__proto__":{"polluted":"yes"},' +
        '"data":{"events":[{"uuid":"p1","eventType":"user.account.update_profile","__proto__":{"isAdmin":true},' +
        '"target":[{"id":"00u1abcd2EFGH3ijk4l5","type":"User","__proto__":{"type":"Group"}}]}]}}';
      okta.users.set('00u1abcd2EFGH3ijk4l5', {
        ...JSON.parse(
          '{"id":"00u1abcd2EFGH3ijk4l5","status":"ACTIVE","profile":{"__proto__":{"email":"evil@example.com"},"login":"jane@example.com"}}',
        ),
      });
      const payload: unknown = JSON.parse(body);
      const outcome = await deliver(source, payload);
      expect(outcome.changes[0]?.attributes).toEqual({ userName: 'jane@example.com' });
      const probe: Record<string, unknown> = {};
      expect(probe.polluted).toBeUndefined();
      expect(probe.isAdmin).toBeUndefined();
      expect(probe.email).toBeUndefined();
      expect(probe.type).toBeUndefined();
    });
  });
});
