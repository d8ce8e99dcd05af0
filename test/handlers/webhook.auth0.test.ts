import { describe, expect, it } from 'vitest';
import { auth0Event, fixturePayload, withHeaders } from '../helpers/events.ts';
import { type BadInput, expectRefused, useHarness } from './webhook-harness.ts';

const harness = useHarness();

const EVENT_ID = 'evt_2demoAliceUserUpdated01';

const payloadWith = (
  user: Record<string, unknown>,
  envelope: Record<string, unknown> = {},
): Record<string, unknown> => {
  const payload = fixturePayload('auth0.user-updated');
  const data = payload.data as { object: Record<string, unknown> };
  return { ...payload, ...envelope, data: { object: { ...data.object, ...user } } };
};

// Shared with every source (status codes, 401/400/413/415 tables, ignored events, base64,
// methods, routing): source-contract.test.ts. Here: Auth0's mapping, type spellings and the
// Authorization schemes it refuses.
describe('webhook handler: Auth0 Event Streams', () => {
  it('applies user.updated with the bearer token and maps profile and user_metadata', async () => {
    const reply = await harness.invoke(auth0Event());

    expect(reply.status).toBe(200);
    const planned = harness.deliveries[0]?.updates[0];
    expect(planned?.change).toMatchObject({
      connectionId: 'auth0',
      eventId: EVENT_ID,
      eventType: 'user.updated',
      subject: { externalId: 'ext-alice', email: 'alice@example.com' },
    });
    expect(planned?.draft).toEqual({
      UserStoreId: 'local-store',
      UserName: 'alice',
      Email: 'alice@example.com',
      PhoneNumber: '+6591234561',
      // Auth0's own nickname wins over the full name.
      Nickname: 'alice',
      Address: '1 Example Rd, Singapore',
      Birthdate: Date.parse('1990-05-17T00:00:00.000Z'),
    });
  });

  it('accepts the prefixed type spelling (com.auth0.user.updated, spec_version)', async () => {
    const { specversion: _specversion, ...rest } = payloadWith({});
    const reply = await harness.invoke(
      auth0Event({ ...rest, spec_version: '1.0', type: 'com.auth0.user.updated' }),
    );
    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates[0]?.change.eventType).toBe('user.updated');
  });

  it('ignores a test event (a0purpose: test) of a handled type without delivering', async () => {
    const reply = await harness.invoke(
      auth0Event(payloadWith({}, { id: 'evt_test', a0purpose: 'test' })),
    );
    expect(reply.status).toBe(200);
    // reason values: see test/sources
    expect(reply.body).toEqual({
      status: 'ignored',
      eventId: 'evt_test',
      eventType: 'user.updated',
      reason: expect.any(String),
    });
    expect(harness.deliveries).toHaveLength(0);
    expect(harness.outcomes).toEqual([{ connectionId: 'auth0', outcome: 'ignored', count: 1 }]);
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const cases: Array<[string, () => ReturnType<typeof auth0Event>]> = [
      [
        'with the token but no scheme',
        () => withHeaders(auth0Event(), { authorization: 'demo-auth0-token' }),
      ],
      [
        'with Basic instead of Bearer',
        () =>
          withHeaders(auth0Event(), {
            authorization: `Basic ${Buffer.from('demo-auth0-token').toString('base64')}`,
          }),
      ],
      ['with an empty bearer', () => withHeaders(auth0Event(), { authorization: 'Bearer ' })],
      [
        'with the token as a prefix',
        () => withHeaders(auth0Event(), { authorization: 'Bearer demo-auth0-token-extra' }),
      ],
    ];
    it.each(cases)('%s', async (_name, event) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(reply.text).not.toContain('demo-auth0-token');
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.outcomes).toEqual([
        { connectionId: 'auth0', outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });
  });

  describe('refuses bad input with a 4xx code and never delivers', () => {
    const cases: BadInput[] = [
      {
        name: 'a user.updated without the user',
        event: () =>
          auth0Event({ id: 'evt_1', type: 'user.updated', specversion: '1.0', data: {} }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/object'],
      },
      {
        name: 'a user without user_id',
        event: () => auth0Event(payloadWith({ user_id: undefined })),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/object/user_id'],
      },
      {
        name: 'a missing id and type',
        event: () => auth0Event({ specversion: '1.0' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/id', '/type'],
      },
      {
        name: 'the user hidden behind a __proto__ key',
        event: () =>
          auth0Event(
            JSON.stringify(payloadWith({})).replace('"data":{"object"', '"data":{"__proto__"'),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/object'],
      },
      {
        name: 'a nickname of 1e400',
        event: () =>
          auth0Event(
            JSON.stringify(payloadWith({})).replace('"nickname":"alice"', '"nickname":1e400'),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/object/nickname'],
      },
      {
        name: 'an unparseable phone number (mapping)',
        event: () => auth0Event(payloadWith({ phone_number: '12' })),
        status: 422,
        code: 'MAPPING_INVALID',
      },
      {
        name: 'an impossible birthdate in user_metadata (mapping)',
        event: () => auth0Event(payloadWith({ user_metadata: { birthdate: '1990-02-30' } })),
        status: 422,
        code: 'MAPPING_INVALID',
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, status, code, paths);
      expect(harness.deliveries).toHaveLength(0);
      expect(({} as Record<string, unknown>).object).toBeUndefined();
    });

    it('names the field in MAPPING_INVALID details without echoing the value', async () => {
      const reply = await harness.invoke(auth0Event(payloadWith({ phone_number: '+65 12' })));
      expectRefused(reply, 422, 'MAPPING_INVALID');
      expect(reply.body.details).toEqual([{ field: 'PhoneNumber', reason: expect.any(String) }]);
      expect(reply.text).not.toContain('+65 12');
    });
  });
});
