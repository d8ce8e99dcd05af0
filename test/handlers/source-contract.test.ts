import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  auth0Event,
  type BodyInput,
  base64Encoded,
  clerkEvent,
  DEMO_SECRETS,
  fixturePayload,
  forConnection,
  hmacEvent,
  oktaEvent,
  tamper,
  withHeaders,
  withMethod,
  withoutHeaders,
  workosEvent,
} from '../helpers/events.ts';
import {
  type BadInput,
  commonBadInputs,
  expectRefused,
  HMAC_TS_CONNECTION,
  HMAC_TS_HEADER,
  HMAC_TYPE_HEADER,
  NOW,
  useHarness,
} from './webhook-harness.ts';

/**
 * What every source's handler chain must do alike, run once per source. The per-source files
 * (webhook.<source>.test.ts) keep only what one source does differently: mapping, extra headers,
 * handshakes, auth modes.
 */

type Event = APIGatewayProxyEventV2;

interface SourceContract {
  /** The demo connection in config/local.json (plus the harness' okta). */
  connectionId: string;
  /** Never to appear in a reply. */
  secret: string;
  /** The header carrying the signature or credential. */
  credentialHeader: string;
  /** Valid credentials over `body` (the `events/` fixture's body when left out). */
  sign(body?: BodyInput): Event;
  /** What the fixture applies: its event id and the source's id for the user. */
  applied: { eventId: string; externalId: string };
  /** A body of the right shape with wrong types, and the ajv paths that must be named. */
  schemaViolation: { body: Record<string, unknown>; paths: string[] };
  /** A signed event of a type the connection does not handle. */
  ignored: { event: () => Event; eventId: string; eventType: string };
  /** Credentials made with a secret the connection does not have. */
  wrongSecret(): Event;
  /** The signature covers the body (not a static token). */
  signsBody: boolean;
  /** Sources that sign a timestamp: valid credentials made at `atMs`, and the replay window. */
  timestamped?: { signedAt(atMs: number): Event; toleranceSeconds: number };
  /** Okta answers a `GET` handshake; the others allow only `POST`. */
  allow: 'POST' | 'GET, POST';
}

const oktaHookOf = (eventType: string, uuid: string) => {
  const payload = fixturePayload('okta.user-updated');
  const [template] = (payload.data as { events: Array<Record<string, unknown>> }).events;
  return { ...payload, data: { events: [{ ...template, uuid, eventType }] } };
};

const hmacTimestamped = (
  options: { now?: number; eventType?: string } = {},
  body?: BodyInput,
): Event =>
  withHeaders(
    hmacEvent(body, {
      now: options.now ?? NOW,
      eventId: 'evt_demo_carol_0001',
      connectionId: HMAC_TS_CONNECTION,
      timestampHeader: HMAC_TS_HEADER,
    }),
    { [HMAC_TYPE_HEADER]: options.eventType ?? 'user.updated' },
  );

const CONTRACTS: Record<string, SourceContract> = {
  clerk: {
    connectionId: 'clerk',
    secret: DEMO_SECRETS.clerk.slice('whsec_'.length),
    credentialHeader: 'svix-signature',
    sign: (body) => clerkEvent(body, { now: NOW }),
    applied: { eventId: 'msg_2demoAliceUserUpdated01', externalId: 'ext-alice' },
    schemaViolation: {
      body: {
        ...fixturePayload('clerk.user-updated'),
        data: {
          ...(fixturePayload('clerk.user-updated').data as object),
          first_name: 42,
          email_addresses: 'alice@example.com',
        },
      },
      paths: ['/data/first_name', '/data/email_addresses'],
    },
    ignored: {
      event: () =>
        clerkEvent(
          { type: 'session.created', object: 'event', data: { id: 'sess_1' } },
          { now: NOW },
        ),
      eventId: 'msg_2demoAliceUserUpdated01',
      eventType: 'session.created',
    },
    wrongSecret: () =>
      clerkEvent(undefined, { now: NOW, secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
    signsBody: true,
    timestamped: {
      signedAt: (atMs) => clerkEvent(undefined, { now: atMs }),
      toleranceSeconds: 300,
    },
    allow: 'POST',
  },
  workos: {
    connectionId: 'workos',
    secret: DEMO_SECRETS.workos,
    credentialHeader: 'workos-signature',
    sign: (body) => workosEvent(body, { now: NOW }),
    applied: { eventId: 'event_01JGDEMOBOB0000000000000', externalId: 'ext-bob' },
    schemaViolation: {
      body: {
        ...fixturePayload('workos.user-updated'),
        data: {
          ...(fixturePayload('workos.user-updated').data as object),
          first_name: 42,
          emails: 'bob@example.com',
        },
      },
      paths: ['/data/first_name', '/data/emails'],
    },
    ignored: {
      event: () =>
        workosEvent(
          {
            id: 'event_group_1',
            event: 'dsync.group.created',
            data: { object: 'directory_group', id: 'directory_group_1', name: 'Sales' },
          },
          { now: NOW },
        ),
      eventId: 'event_group_1',
      eventType: 'dsync.group.created',
    },
    wrongSecret: () => workosEvent(undefined, { now: NOW, secret: 'other' }),
    signsBody: true,
    timestamped: {
      signedAt: (atMs) => workosEvent(undefined, { now: atMs }),
      toleranceSeconds: 180,
    },
    allow: 'POST',
  },
  auth0: {
    connectionId: 'auth0',
    secret: DEMO_SECRETS.auth0,
    credentialHeader: 'authorization',
    sign: (body) => auth0Event(body),
    applied: { eventId: 'evt_2demoAliceUserUpdated01', externalId: 'ext-alice' },
    schemaViolation: {
      body: (() => {
        const payload = fixturePayload('auth0.user-updated');
        const data = payload.data as { object: Record<string, unknown> };
        return { ...payload, data: { object: { ...data.object, email: 42, nickname: ['a'] } } };
      })(),
      paths: ['/data/object/email', '/data/object/nickname'],
    },
    ignored: {
      event: () => auth0Event({ id: 'evt_deleted', type: 'user.deleted', specversion: '1.0' }),
      eventId: 'evt_deleted',
      eventType: 'user.deleted',
    },
    wrongSecret: () => auth0Event(undefined, { secret: 'not-the-token' }),
    signsBody: false,
    allow: 'POST',
  },
  okta: {
    connectionId: 'okta',
    secret: DEMO_SECRETS.okta,
    credentialHeader: 'authorization',
    sign: (body) => oktaEvent(body),
    applied: { eventId: '0f1e2d3c-c7a0-11ef-8000-0123456789ab', externalId: 'ext-bob' },
    schemaViolation: {
      body: {
        ...fixturePayload('okta.user-updated'),
        eventId: 7,
        data: { events: 'user.updated' },
      },
      paths: ['/eventId', '/data/events'],
    },
    ignored: {
      event: () => oktaEvent(oktaHookOf('user.session.start', 'evt-login')),
      eventId: 'evt-login',
      eventType: 'user.session.start',
    },
    wrongSecret: () => oktaEvent(undefined, { secret: 'not-the-secret' }),
    signsBody: false,
    allow: 'GET, POST',
  },
  hmac: {
    connectionId: 'hmac',
    secret: DEMO_SECRETS.hmac,
    credentialHeader: 'x-hub-signature-256',
    sign: (body) => hmacEvent(body, { now: NOW, eventId: 'evt_demo_carol_0001' }),
    applied: { eventId: 'evt_demo_carol_0001', externalId: 'ext-carol' },
    schemaViolation: {
      body: { ...fixturePayload('hmac.user-updated'), email: 42, name: { first: 'Carol' } },
      paths: ['/email', '/name'],
    },
    // The demo connection handles every delivery; the timestamped one filters on a type header.
    ignored: {
      event: () => hmacTimestamped({ eventType: 'user.deleted' }),
      eventId: 'evt_demo_carol_0001',
      eventType: 'user.deleted',
    },
    wrongSecret: () => hmacEvent(undefined, { now: NOW, secret: 'other-secret' }),
    signsBody: true,
    timestamped: {
      signedAt: (atMs) => hmacTimestamped({ now: atMs }),
      toleranceSeconds: 300,
    },
    allow: 'POST',
  },
};

/** The connection an event is addressed to, which the outcome must be recorded against. */
const connectionOf = (event: Event): string => event.pathParameters?.connectionId ?? '';

/** Changes the second-to-last character: inside the digest or token for every source. */
const withCredentialByteChanged = (event: Event, header: string): Event => {
  const value = event.headers[header] ?? '';
  const at = value.length - 2;
  const changed = value[at] === 'a' ? 'b' : 'a';
  return withHeaders(event, { [header]: `${value.slice(0, at)}${changed}${value.slice(at + 1)}` });
};

/** Every header name in Title-Case (`Svix-Signature`, `Content-Type`). */
const titleCased = (event: Event): Event => ({
  ...event,
  headers: Object.fromEntries(
    Object.entries(event.headers).map(([name, value]) => [
      name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()),
      value,
    ]),
  ),
});

const harness = useHarness();

describe.each(Object.entries(CONTRACTS))('webhook handler contract: %s', (_source, contract) => {
  const { connectionId } = contract;

  /** Neither CIAM nor the Okta Users API was called. */
  const expectNothingReached = () => {
    expect(harness.deliveries).toHaveLength(0);
    expect(harness.okta.requests).toHaveLength(0);
  };

  const expectApplied = async (event: Event) => {
    const reply = await harness.invoke(event);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.body).toEqual({
      status: 'applied',
      eventId: contract.applied.eventId,
      userId: 'ciam-1',
      requestId: 'req-1',
    });
    expect(harness.deliveries).toHaveLength(1);
    expect(harness.deliveries[0]?.connection.id).toBe(connectionOf(event));
    expect(harness.deliveries[0]?.updates.map((planned) => planned.change)).toEqual([
      expect.objectContaining({
        connectionId: connectionOf(event),
        eventId: contract.applied.eventId,
        subject: expect.objectContaining({ externalId: contract.applied.externalId }),
      }),
    ]);
    expect(harness.outcomes).toEqual([
      { connectionId: connectionOf(event), outcome: 'applied', count: 1 },
    ]);
  };

  it('applies the signed fixture event to the user it names', async () => {
    await expectApplied(contract.sign());
  });

  it('applies a base64-encoded body exactly as the same body sent as text', async () => {
    const asText = await harness.invoke(contract.sign());
    expect(asText.status).toBe(200);
    const planned = harness.deliveries[0]?.updates;
    harness.reset();
    const event = base64Encoded(contract.sign());
    expect(event.isBase64Encoded).toBe(true);
    await expectApplied(event);
    expect(harness.deliveries[0]?.updates).toEqual(planned);
  });

  it('reads the credential and content-type headers whatever their case', async () => {
    const event = titleCased(contract.sign());
    expect(Object.keys(event.headers)).toContain('Content-Type');
    await expectApplied(event);
  });

  it('answers 200 ignored with a reason for an event type it does not handle, and never delivers', async () => {
    const event = contract.ignored.event();
    const reply = await harness.invoke(event);
    expect(reply.status).toBe(200);
    // reason values: see test/sources
    expect(reply.body).toEqual({
      status: 'ignored',
      eventId: contract.ignored.eventId,
      eventType: contract.ignored.eventType,
      reason: expect.any(String),
    });
    expectNothingReached();
    expect(harness.outcomes).toEqual([
      { connectionId: connectionOf(event), outcome: 'ignored', count: 1 },
    ]);
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const header = contract.credentialHeader;
    const cases: Array<[string, () => Event]> = [
      ['with no credential header', () => withoutHeaders(contract.sign(), header)],
      ['with credentials made with another secret', contract.wrongSecret],
      [
        'with one byte of the credential changed',
        () => withCredentialByteChanged(contract.sign(), header),
      ],
      ...(contract.signsBody
        ? ([
            ['with one body byte changed after signing', () => tamper(contract.sign())],
            [
              'with one byte of a base64 body changed after signing',
              () => tamper(base64Encoded(contract.sign())),
            ],
          ] satisfies Array<[string, () => Event]>)
        : []),
      ...(contract.timestamped === undefined
        ? []
        : ((timestamped) => {
            const beyond = (timestamped.toleranceSeconds + 60) * 1000;
            return [
              ['signed beyond the replay window (stale)', () => timestamped.signedAt(NOW - beyond)],
              [
                'signed beyond the replay window ahead (future)',
                () => timestamped.signedAt(NOW + beyond),
              ],
            ] satisfies Array<[string, () => Event]>;
          })(contract.timestamped)),
    ];

    it.each(cases)('%s', async (_name, build) => {
      const event = build();
      const reply = await harness.invoke(event);
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(reply.text).not.toContain(contract.secret);
      expectNothingReached();
      expect(harness.outcomes).toEqual([
        { connectionId: connectionOf(event), outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });

    it('authenticates before it looks at the content type', async () => {
      const reply = await harness.invoke(
        withHeaders(contract.wrongSecret(), { 'content-type': 'text/plain' }),
      );
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expectNothingReached();
    });

    if (contract.timestamped !== undefined) {
      const { signedAt, toleranceSeconds } = contract.timestamped;
      // The stale and future cases above differ from this one only in the time signed.
      it(`accepts a signature made ${toleranceSeconds - 10} s ago, inside the replay window`, async () => {
        const reply = await harness.invoke(signedAt(NOW - (toleranceSeconds - 10) * 1000));
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ status: 'applied' });
      });
    }
  });

  describe('refuses bad input after authentication and never delivers', () => {
    const cases: BadInput[] = [
      ...commonBadInputs((body) => contract.sign(body)),
      {
        name: 'a schema violation (wrong types)',
        event: () => contract.sign(contract.schemaViolation.body),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: contract.schemaViolation.paths,
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const built = event();
      const reply = await harness.invoke(built);
      expectRefused(reply, status, code, paths);
      expectNothingReached();
      expect(harness.outcomes).toEqual([
        { connectionId: connectionOf(built), outcome: code, count: 1 },
      ]);
    });
  });

  describe('routing and methods', () => {
    const methods =
      contract.allow === 'POST' ? ['GET', 'PUT', 'DELETE', 'PATCH'] : ['PUT', 'DELETE', 'PATCH'];
    it.each(methods)(
      `answers %s with 405 METHOD_NOT_ALLOWED and Allow: ${contract.allow}`,
      async (method) => {
        const reply = await harness.invoke(withMethod(contract.sign(), method));
        expectRefused(reply, 405, 'METHOD_NOT_ALLOWED');
        expect(reply.headers.allow).toBe(contract.allow);
        expectNothingReached();
        expect(harness.outcomes).toEqual([
          { connectionId, outcome: 'METHOD_NOT_ALLOWED', count: 1 },
        ]);
      },
    );

    it('answers 404 CONNECTION_NOT_FOUND for a connection id that is not configured', async () => {
      const reply = await harness.invoke(forConnection(contract.sign(), `${connectionId}-nope`));
      expectRefused(reply, 404, 'CONNECTION_NOT_FOUND');
      expectNothingReached();
      expect(harness.outcomes).toEqual([
        { connectionId: 'unknown', outcome: 'CONNECTION_NOT_FOUND', count: 1 },
      ]);
    });
  });
});
