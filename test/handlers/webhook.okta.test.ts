import { describe, expect, it } from 'vitest';
import {
  fixturePayload,
  oktaChallengeEvent,
  oktaEvent,
  withHeaders,
  withoutHeaders,
} from '../helpers/events.ts';
import { oktaUser } from '../helpers/fake-okta.ts';
import { type BadInput, expectRefused, OKTA_API_TOKEN, useHarness } from './webhook-harness.ts';

const harness = useHarness();

const FIXTURE_UUID = '0f1e2d3c-c7a0-11ef-8000-0123456789ab';

type LogEvent = Record<string, unknown>;

/** The fixture's hook with its one LogEvent replaced by these (same shape, other ids/types). */
const hookWith = (
  ...events: Array<Partial<{ uuid: string; eventType: string; target: string }>>
) => {
  const payload = fixturePayload('okta.user-updated');
  const [template] = (payload.data as { events: LogEvent[] }).events;
  return {
    ...payload,
    data: {
      events: events.map((event) => ({
        ...template,
        uuid: event.uuid ?? FIXTURE_UUID,
        eventType: event.eventType ?? 'user.account.update_profile',
        target: [
          { id: event.target ?? 'ext-bob', type: 'User', alternateId: 'x', displayName: 'x' },
        ],
      })),
    },
  };
};

// Shared with every source (status codes, 401/400/413/415 tables, ignored events, base64,
// methods, routing): source-contract.test.ts. Here: the Users API, batches, the GET handshake.
describe('webhook handler: Okta Event Hooks', () => {
  it('fetches the profile from the Users API and applies it', async () => {
    const reply = await harness.invoke(oktaEvent());

    expect(reply.status).toBe(200);
    expect(harness.okta.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        userId: 'ext-bob',
        authorization: `SSWS ${OKTA_API_TOKEN}`,
      }),
    ]);
    const planned = harness.deliveries[0]?.updates[0];
    expect(planned?.change).toMatchObject({
      connectionId: 'okta',
      eventId: FIXTURE_UUID,
      eventType: 'user.account.update_profile',
      occurredAt: '2025-01-01T00:00:00.512Z',
      subject: { externalId: 'ext-bob', email: 'bob@example.com' },
    });
    expect(planned?.draft).toEqual({
      UserStoreId: 'local-store',
      UserName: 'bob@example.com',
      Email: 'bob@example.com',
      PhoneNumber: '+6591234562',
      Nickname: 'Bob Baker',
    });
  });

  it('applies a batch of two events in order and answers with a results array', async () => {
    const reply = await harness.invoke(
      oktaEvent(
        hookWith(
          { uuid: 'evt-bob', target: 'ext-bob' },
          { uuid: 'evt-dave', eventType: 'user.lifecycle.activate', target: 'ext-dave' },
        ),
      ),
    );

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'applied',
      results: [
        { status: 'applied', eventId: 'evt-bob', userId: 'ciam-1', requestId: 'req-1' },
        { status: 'applied', eventId: 'evt-dave', userId: 'ciam-1', requestId: 'req-1' },
      ],
    });
    expect(harness.deliveries).toHaveLength(1);
    const drafts = harness.deliveries[0]?.updates.map((planned) => planned.draft);
    expect(drafts).toEqual([
      expect.objectContaining({ Email: 'bob@example.com', Nickname: 'Bob Baker' }),
      expect.objectContaining({ Email: 'dave@example.com', Nickname: 'davey' }),
    ]);
    expect(harness.okta.requests.map((request) => request.userId).sort()).toEqual([
      'ext-bob',
      'ext-dave',
    ]);
    expect(harness.outcomes).toEqual([{ connectionId: 'okta', outcome: 'applied', count: 2 }]);
  });

  it('fetches a user named twice in one batch once', async () => {
    const reply = await harness.invoke(
      oktaEvent(hookWith({ uuid: 'evt-1' }, { uuid: 'evt-2', eventType: 'user.lifecycle.create' })),
    );
    expect(reply.status).toBe(200);
    expect(harness.okta.requests).toHaveLength(1);
    expect(harness.deliveries[0]?.updates).toHaveLength(2);
  });

  it('reports ignored events of a mixed batch next to the applied ones', async () => {
    const reply = await harness.invoke(
      oktaEvent(
        hookWith({ uuid: 'evt-bob' }, { uuid: 'evt-login', eventType: 'user.session.start' }),
      ),
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'applied',
      results: [{ status: 'applied', eventId: 'evt-bob', userId: 'ciam-1', requestId: 'req-1' }],
      ignored: [
        { eventId: 'evt-login', eventType: 'user.session.start', reason: expect.any(String) },
      ],
    });
    expect(harness.outcomes).toEqual(
      expect.arrayContaining([
        { connectionId: 'okta', outcome: 'applied', count: 1 },
        { connectionId: 'okta', outcome: 'ignored', count: 1 },
      ]),
    );
  });

  it('ignores a user Okta no longer has (404) without delivering', async () => {
    const reply = await harness.invoke(
      oktaEvent(hookWith({ uuid: 'evt-gone', target: 'ext-gone' })),
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'ignored', eventId: 'evt-gone' });
    expect(harness.deliveries).toHaveLength(0);
  });

  it('answers 503 SOURCE_UNAVAILABLE with Retry-After when the Users API fails', async () => {
    harness.okta.behave(503);
    const reply = await harness.invoke(oktaEvent());
    expectRefused(reply, 503, 'SOURCE_UNAVAILABLE');
    expect(reply.headers['retry-after']).toBe('5');
    expect(harness.deliveries).toHaveLength(0);
    expect(harness.outcomes).toEqual([
      { connectionId: 'okta', outcome: 'SOURCE_UNAVAILABLE', count: 1 },
    ]);
  });

  describe('verification challenge (GET)', () => {
    it('echoes the challenge as {verification}', async () => {
      const reply = await harness.invoke(oktaChallengeEvent());
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ verification: 'Qm9vT2t0YUNoYWxsZW5nZQ' });
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.okta.requests).toHaveLength(0);
    });

    it('refuses a challenge carrying the wrong secret with 401', async () => {
      const reply = await harness.invoke(oktaChallengeEvent({ secret: 'wrong' }));
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(reply.text).not.toContain('Qm9vT2t0YUNoYWxsZW5nZQ');
    });

    it('answers 400 when the challenge header is missing', async () => {
      const reply = await harness.invoke(
        withoutHeaders(oktaChallengeEvent(), 'x-okta-verification-challenge'),
      );
      expectRefused(reply, 400, 'PAYLOAD_INVALID');
    });
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const cases: Array<[string, () => ReturnType<typeof oktaEvent>]> = [
      [
        'with the secret behind a scheme',
        () => withHeaders(oktaEvent(), { authorization: 'Bearer demo-okta-hook-secret' }),
      ],
      [
        'with the secret truncated',
        () => withHeaders(oktaEvent(), { authorization: 'demo-okta-hook' }),
      ],
    ];
    it.each(cases)('%s', async (_name, event) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(harness.okta.requests).toHaveLength(0);
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.outcomes).toEqual([
        { connectionId: 'okta', outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });
  });

  describe('refuses bad input with a 4xx code and never delivers', () => {
    const payload = () => fixturePayload('okta.user-updated');
    const cases: BadInput[] = [
      {
        name: 'another envelope type',
        event: () => oktaEvent({ ...payload(), eventType: 'com.okta.other' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/eventType'],
      },
      {
        name: 'a missing eventId and data',
        event: () => oktaEvent({ eventType: 'com.okta.event_hook' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/eventId', '/data'],
      },
      {
        name: 'a User target without id',
        event: () => {
          const hook = hookWith({});
          const [event] = hook.data.events;
          return oktaEvent({
            ...hook,
            data: { events: [{ ...event, target: [{ type: 'User' }] }] },
          });
        },
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/events/0/target/0/id'],
      },
      {
        name: 'an eventId of 1e400',
        event: () =>
          oktaEvent(
            JSON.stringify(payload()).replace(
              '"eventId":"5b3c7d2e-1f4a-4c8b-9e6d-0a1b2c3d4e5f"',
              '"eventId":1e400',
            ),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/eventId'],
      },
      {
        name: 'the events hidden behind a __proto__ key',
        event: () =>
          oktaEvent(JSON.stringify(payload()).replace('"data":{"events"', '"data":{"__proto__"')),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/events'],
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, status, code, paths);
      expect(harness.okta.requests).toHaveLength(0);
      expect(harness.deliveries).toHaveLength(0);
      expect(({} as Record<string, unknown>).events).toBeUndefined();
    });

    it('answers 422 MAPPING_INVALID when the Okta profile has an unusable phone', async () => {
      harness.okta.users.set(
        'ext-erin',
        oktaUser('ext-erin', { email: 'erin@example.com', mobilePhone: 'ask reception' }),
      );
      const reply = await harness.invoke(oktaEvent(hookWith({ target: 'ext-erin' })));
      expectRefused(reply, 422, 'MAPPING_INVALID');
      expect(reply.text).not.toContain('ask reception');
      expect(harness.deliveries).toHaveLength(0);
    });
  });
});
