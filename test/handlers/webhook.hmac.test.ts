import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fixturePayload,
  hmacEvent,
  readEvent,
  withHeaders,
  withoutHeaders,
} from '../helpers/events.ts';
import {
  type BadInput,
  expectRefused,
  HMAC_TS_CONNECTION,
  HMAC_TS_HEADER,
  HMAC_TYPE_HEADER,
  NOW,
  useHarness,
} from './webhook-harness.ts';

const harness = useHarness();

const EVENT_ID = 'evt_demo_carol_0001';

const signed = (body?: Parameters<typeof hmacEvent>[0]) =>
  hmacEvent(body, { now: NOW, eventId: EVENT_ID });

/** The connection that also signs a timestamp header and names the event type. */
const timestamped = (
  body?: Parameters<typeof hmacEvent>[0],
  options: { now?: number; timestampSeconds?: number } = {},
) =>
  hmacEvent(body, {
    now: NOW,
    eventId: EVENT_ID,
    connectionId: HMAC_TS_CONNECTION,
    timestampHeader: HMAC_TS_HEADER,
    ...options,
  });

const payloadWith = (fields: Record<string, unknown>) => ({
  ...fixturePayload('hmac.user-updated'),
  ...fields,
});

// Shared with every source (status codes, 401/400/413/415 tables, ignored events, base64,
// methods, routing, replay window): source-contract.test.ts. Here: field expressions, the
// signature header format and the optional timestamp header.
describe('webhook handler: generic HMAC', () => {
  it('applies a signed body mapped by the connection fields', async () => {
    const reply = await harness.invoke(signed());

    expect(reply.status).toBe(200);
    const planned = harness.deliveries[0]?.updates[0];
    expect(planned?.change).toMatchObject({
      connectionId: 'hmac',
      eventId: EVENT_ID,
      eventType: 'user.updated',
      occurredAt: new Date(NOW).toISOString(),
      subject: { externalId: 'ext-carol', email: 'carol@example.com' },
    });
    expect(planned?.draft).toEqual({
      UserStoreId: 'local-store',
      Email: 'carol@example.com',
      PhoneNumber: '+6591234563',
      Nickname: 'Carol Núñez',
    });
  });

  it('verifies the unchanged fixture event (non-ASCII body) as sent', async () => {
    const reply = await harness.invoke(readEvent('hmac.user-updated'));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'applied', eventId: EVENT_ID });
  });

  it('uses the body hash as event id when the sender gives none', async () => {
    const body = JSON.stringify(payloadWith({}));
    const reply = await harness.invoke(withoutHeaders(signed(body), 'x-event-id'));
    expect(reply.status).toBe(200);
    expect(reply.body.eventId).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
  });

  it('applies a timestamped delivery and dates the change by the signed timestamp', async () => {
    const at = Math.floor(NOW / 1000) - 60;
    const reply = await harness.invoke(
      withHeaders(timestamped(undefined, { timestampSeconds: at }), {
        [HMAC_TYPE_HEADER]: 'user.updated',
      }),
    );
    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates[0]?.change.occurredAt).toBe(
      new Date(at * 1000).toISOString(),
    );
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const header = 'x-hub-signature-256';
    const cases: Array<[string, () => ReturnType<typeof hmacEvent>]> = [
      [
        'without the sha256= prefix',
        () =>
          withHeaders(signed(), {
            [header]: signed().headers[header]?.slice('sha256='.length) ?? '',
          }),
      ],
      [
        'with a base64 digest',
        () =>
          withHeaders(signed(), {
            [header]: `sha256=${Buffer.from(signed().headers[header]?.slice(7) ?? '', 'hex').toString('base64')}`,
          }),
      ],
      [
        'with a truncated digest',
        () => withHeaders(signed(), { [header]: signed().headers[header]?.slice(0, -2) ?? '' }),
      ],
      ['with the timestamp header missing', () => withoutHeaders(timestamped(), HMAC_TS_HEADER)],
      [
        'with the timestamp changed after signing',
        () => withHeaders(timestamped(), { [HMAC_TS_HEADER]: String(Math.floor(NOW / 1000) - 1) }),
      ],
      ['with a timestamp in ms', () => timestamped(undefined, { timestampSeconds: NOW })],
    ];
    it.each(cases)('%s', async (_name, event) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.outcomes).toEqual([
        { connectionId: expect.stringMatching(/^hmac/), outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });

    it('accepts an uppercase hex digest (same bytes)', async () => {
      const event = signed();
      const value = event.headers[header] ?? '';
      const reply = await harness.invoke(
        withHeaders(event, { [header]: `sha256=${value.slice(7).toUpperCase()}` }),
      );
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ status: 'applied', eventId: EVENT_ID });
    });
  });

  it('keeps the payload out of a 400 body: paths and schema wording only', async () => {
    const secret = 'Zq9-carol.private';
    const reply = await harness.invoke(
      signed(payloadWith({ id: '', email: `${secret} at example`, [secret]: secret })),
    );
    expectRefused(reply, 400, 'PAYLOAD_INVALID', ['/id', '/email', '']);
    expect(reply.body.details).toEqual([
      { path: '/id', message: 'must NOT have fewer than 1 characters' },
      { path: '/email', message: 'must match format "email"' },
      { path: '', message: 'must NOT have additional properties' },
    ]);
    expect(reply.text).not.toContain(secret);
  });

  describe('refuses bad input with a 4xx code and never delivers', () => {
    const cases: BadInput[] = [
      {
        name: 'a missing id',
        event: () => signed({ email: 'carol@example.com' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/id'],
      },
      {
        name: 'an invalid email',
        event: () => signed(payloadWith({ email: 'carol at example' })),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/email'],
      },
      {
        name: 'an unexpected property',
        event: () => signed(payloadWith({ role: 'admin' })),
        status: 400,
        code: 'PAYLOAD_INVALID',
      },
      {
        name: 'a __proto__ key',
        event: () =>
          signed(JSON.stringify(payloadWith({})).replace('{', '{"__proto__":{"isAdmin":true},')),
        status: 400,
        code: 'PAYLOAD_INVALID',
      },
      {
        name: 'a phone of 1e400',
        event: () => signed(JSON.stringify(payloadWith({})).replace('"+6591234563"', '1e400')),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/phone'],
      },
      {
        name: 'an unparseable phone number (mapping)',
        event: () => signed(payloadWith({ phone: 'not-a-phone' })),
        status: 422,
        code: 'MAPPING_INVALID',
      },
      {
        name: 'a phone number with an extension (mapping)',
        event: () => signed(payloadWith({ phone: '+65 9123 4563 ext. 12' })),
        status: 422,
        code: 'MAPPING_INVALID',
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, status, code, paths);
      expect(harness.deliveries).toHaveLength(0);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });
});
