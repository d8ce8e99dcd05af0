import { describe, expect, it } from 'vitest';
import { fixturePayload, withHeaders, workosEvent } from '../helpers/events.ts';
import { type BadInput, expectRefused, NOW, useHarness } from './webhook-harness.ts';

const harness = useHarness();

const signed = (body?: Parameters<typeof workosEvent>[0]) => workosEvent(body, { now: NOW });

const userUpdated = (data: Record<string, unknown>, envelope: Record<string, unknown> = {}) => {
  const payload = fixturePayload('workos.user-updated');
  return { ...payload, ...envelope, data: { ...(payload.data as object), ...data } };
};

const EVENT_ID = 'event_01JGDEMOBOB0000000000000';

// Shared with every source (status codes, 401/400/413/415 tables, ignored events, base64,
// methods, routing): source-contract.test.ts. Here: WorkOS' mapping and signature header format.
describe('webhook handler: WorkOS', () => {
  it('applies a signed dsync.user.updated with names, username and custom attributes', async () => {
    const reply = await harness.invoke(signed());

    expect(reply.status).toBe(200);
    const planned = harness.deliveries[0]?.updates[0];
    expect(planned?.change).toMatchObject({
      eventId: EVENT_ID,
      eventType: 'dsync.user.updated',
      subject: { externalId: 'ext-bob', email: 'bob@example.com' },
    });
    expect(planned?.draft).toEqual({
      UserStoreId: 'local-store',
      UserName: 'bob',
      Email: 'bob@example.com',
      Nickname: 'Bob Brown',
      CustomizationAttributes: [
        { Name: 'department', Value: 'Sales', Type: 'STRING' },
        { Name: 'employee_id', Value: 'E-1024', Type: 'STRING' },
      ],
    });
  });

  it('falls back to the primary entry of emails[] when data.email is absent', async () => {
    const reply = await harness.invoke(
      signed(
        userUpdated({
          email: null,
          emails: [
            { primary: false, type: 'home', value: 'bob.home@example.net' },
            { primary: true, type: 'work', value: 'bob.work@example.com' },
          ],
        }),
      ),
    );
    expect(reply.status).toBe(200);
    expect(harness.deliveries[0]?.updates[0]?.draft.Email).toBe('bob.work@example.com');
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const header = (value: string) => withHeaders(signed(), { 'workos-signature': value });
    const cases: Array<[string, () => ReturnType<typeof workosEvent>]> = [
      [
        'with a timestamp in seconds instead of ms',
        () => workosEvent(undefined, { timestampMs: Math.floor(NOW / 1000) }),
      ],
      [
        'with the timestamp changed after signing',
        () =>
          header(signed().headers['workos-signature']?.replace(`t=${NOW}`, `t=${NOW - 1}`) ?? ''),
      ],
      ['with a malformed header', () => header('t=soon, v1=nothex')],
      [
        'with two timestamps',
        () => header(`t=${NOW}, t=${NOW}, ${signed().headers['workos-signature']?.split(', ')[1]}`),
      ],
    ];
    it.each(cases)('%s', async (_name, event) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, 401, 'SIGNATURE_INVALID');
      expect(harness.deliveries).toHaveLength(0);
      expect(harness.outcomes).toEqual([
        { connectionId: 'workos', outcome: 'SIGNATURE_INVALID', count: 1 },
      ]);
    });
  });

  describe('refuses bad input with a 4xx code and never delivers', () => {
    const cases: BadInput[] = [
      {
        name: 'a missing event id and data',
        event: () => signed({ event: 'dsync.user.updated' }),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/id', '/data'],
      },
      {
        name: 'a directory user without id',
        event: () => signed(userUpdated({ id: undefined })),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/id'],
      },
      {
        name: 'a number of 1e400 where a string belongs',
        event: () =>
          signed(
            JSON.stringify(userUpdated({})).replace('"first_name":"Bob"', '"first_name":1e400'),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/first_name'],
      },
      {
        name: 'a __proto__ key as the event id',
        event: () =>
          signed(
            JSON.stringify(userUpdated({})).replace(`"id":"${EVENT_ID}"`, '"__proto__":{"id":"x"}'),
          ),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/id'],
      },
    ];
    it.each(cases)('$name → $status $code', async ({ event, status, code, paths }) => {
      const reply = await harness.invoke(event());
      expectRefused(reply, status, code, paths);
      expect(harness.deliveries).toHaveLength(0);
      expect(({} as Record<string, unknown>).id).toBeUndefined();
    });
  });
});
