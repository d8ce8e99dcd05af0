import { describe, expect, it } from 'vitest';
import {
  clerkEvent,
  DEMO_SECRETS,
  fixturePayload,
  tamper,
  withHeaders,
  withoutHeaders,
} from '../helpers/events.ts';
import { type BadInput, expectRefused, NOW, useHarness } from './webhook-harness.ts';

const harness = useHarness();

const signed = (body?: Parameters<typeof clerkEvent>[0]) => clerkEvent(body, { now: NOW });

/** A well-formed v1 signature that no secret of the connection produced. */
const OTHER_SIGNATURE = `v1,${Buffer.alloc(32, 7).toString('base64')}`;

/** The fixture's user.updated with `data` fields replaced. */
const userUpdated = (data: Record<string, unknown>, envelope: Record<string, unknown> = {}) => {
  const payload = fixturePayload('clerk.user-updated');
  return { ...payload, ...envelope, data: { ...(payload.data as object), ...data } };
};

// Shared with every source (status codes, 401/400/413/415 tables, ignored events, base64,
// methods, routing): source-contract.test.ts. Here: Clerk's mapping and svix headers.
describe('webhook handler: Clerk (standard-webhooks)', () => {
  it('applies a signed user.updated and maps primary email/phone, names and public_metadata', async () => {
    const reply = await harness.invoke(signed());

    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates).toHaveLength(1);
    const planned = harness.deliveries[0]?.updates[0];
    expect(planned?.change).toMatchObject({
      connectionId: 'clerk',
      eventId: 'msg_2demoAliceUserUpdated01',
      eventType: 'user.updated',
      subject: { externalId: 'ext-alice', email: 'alice@example.com' },
    });
    expect(planned?.draft).toEqual({
      UserStoreId: 'local-store',
      UserName: 'alice',
      // The primary entries by id, not the first in the list (alice.old@ is listed second).
      Email: 'alice@example.com',
      PhoneNumber: '+6591234561',
      Nickname: 'Alice Anders',
      Birthdate: Date.parse('1990-05-17T00:00:00.000Z'),
      CustomizationAttributes: [
        { Name: 'department', Value: 'Engineering', Type: 'STRING' },
        { Name: 'tier', Value: 'gold', Type: 'STRING' },
      ],
    });
  });

  it('picks the primary email by id even when it is not first in the list', async () => {
    const reply = await harness.invoke(
      signed(userUpdated({ primary_email_address_id: 'idn_aliceOld' })),
    );
    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates[0]?.draft.Email).toBe('alice.old@example.org');
  });

  it('accepts a svix-signature listing several signatures when one of them matches', async () => {
    const event = signed();
    const valid = event.headers['svix-signature'] ?? '';
    const reply = await harness.invoke(
      withHeaders(event, { 'svix-signature': `${OTHER_SIGNATURE} v2,unknown ${valid}` }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'applied' });
  });

  it('drops __proto__ from public_metadata and leaves Object.prototype alone', async () => {
    const body = JSON.stringify(userUpdated({})).replace(
      '"public_metadata":{',
      '"public_metadata":{"__proto__":{"polluted":"yes"},',
    );
    const reply = await harness.invoke(signed(body));
    expect(reply.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const names = harness.deliveries[0]?.updates[0]?.draft.CustomizationAttributes?.map(
      (attribute) => attribute.Name,
    );
    expect(names).toEqual(['department', 'tier']);
  });

  // 1e400 parses to Infinity; it once reached CIAM as the text "Infinity".
  it('refuses a public_metadata number of 1e400 with 422 MAPPING_INVALID', async () => {
    const body = JSON.stringify(userUpdated({})).replace('"tier":"gold"', '"tier":1e400');
    const reply = await harness.invoke(signed(body));
    expectRefused(reply, 422, 'MAPPING_INVALID');
    expect(harness.deliveries).toHaveLength(0);
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const cases: Array<[string, () => ReturnType<typeof clerkEvent>]> = [
      ['with no svix-id', () => withoutHeaders(signed(), 'svix-id')],
      ['with no svix-timestamp', () => withoutHeaders(signed(), 'svix-timestamp')],
      [
        'with several signatures none of which matches',
        () =>
          withHeaders(signed(), { 'svix-signature': `${OTHER_SIGNATURE} v1,${'A'.repeat(44)}` }),
      ],
      [
        'with another svix-id than the one signed',
        () => withHeaders(signed(), { 'svix-id': 'msg_other' }),
      ],
      [
        'with the svix-timestamp changed after signing',
        () => withHeaders(signed(), { 'svix-timestamp': String(Math.floor(NOW / 1000) - 1) }),
      ],
    ];
    it.each(cases)('%s', async (_name, event) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.outcomes).toEqual([
        { connectionId: 'clerk', outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });

    it('does not reveal the expected signature or the secret', async () => {
      const reply = await harness.invoke(tamper(signed()));
      expect(reply.text).not.toContain(DEMO_SECRETS.clerk.slice('whsec_'.length));
      expect(reply.text).not.toContain('v1,');
    });
  });

  describe('refuses bad input with a 4xx code and never delivers', () => {
    const cases: BadInput[] = [
      {
        name: 'a missing data object',
        event: () => signed({ type: 'user.updated', object: 'event' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data'],
      },
      {
        name: 'a user without id',
        event: () => signed(userUpdated({ id: undefined })),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/id'],
      },
      {
        name: 'a timestamp of 1e400',
        event: () =>
          signed(
            JSON.stringify(userUpdated({})).replace(
              '"timestamp":1735689600000',
              '"timestamp":1e400',
            ),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/timestamp'],
      },
      {
        name: 'an unparseable primary phone number (mapping)',
        event: () =>
          signed(
            userUpdated({
              phone_numbers: [
                { id: 'idn_alicePhone', object: 'phone_number', phone_number: 'call me' },
              ],
            }),
          ),
        status: 422,
        code: 'MAPPING_INVALID',
      },
      {
        name: 'an impossible birthday (mapping)',
        event: () => signed(userUpdated({ birthday: '1990-13-45' })),
        status: 422,
        code: 'MAPPING_INVALID',
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, status, code, paths);
      expect(harness.deliveries).toHaveLength(0);
    });
  });
});
