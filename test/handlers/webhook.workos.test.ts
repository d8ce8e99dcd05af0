import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  base64Encoded,
  fixturePayload,
  tamper,
  withHeaders,
  withoutHeaders,
  workosEvent,
} from '../helpers/events.ts';
import {
  type BadInput,
  commonBadInputs,
  expectRefused,
  type Harness,
  NOW,
  startHarness,
} from './webhook-harness.ts';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness?.close());
beforeEach(() => harness.reset());

const signed = (body?: Parameters<typeof workosEvent>[0]) => workosEvent(body, { now: NOW });

const userUpdated = (data: Record<string, unknown>, envelope: Record<string, unknown> = {}) => {
  const payload = fixturePayload('workos.user-updated');
  return { ...payload, ...envelope, data: { ...(payload.data as object), ...data } };
};

const EVENT_ID = 'event_01JGDEMOBOB0000000000000';

describe('webhook handler: WorkOS', () => {
  it('applies a signed dsync.user.updated with names, username and custom attributes', async () => {
    const reply = await harness.invoke(signed());

    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      status: 'applied',
      eventId: EVENT_ID,
      userId: 'ciam-1',
      requestId: 'req-1',
    });
    expect(harness.deliveries).toHaveLength(1);
    const planned = harness.deliveries[0]?.updates[0];
    expect(harness.deliveries[0]?.connection.id).toBe('workos');
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
    expect(harness.outcomes).toEqual([{ connectionId: 'workos', outcome: 'applied', count: 1 }]);
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

  it('verifies a base64-encoded body over the decoded bytes and applies it', async () => {
    const reply = await harness.invoke(base64Encoded(signed()));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'applied', eventId: EVENT_ID });
  });

  it('ignores dsync.group.created without delivering', async () => {
    const reply = await harness.invoke(
      signed({
        id: 'event_group_1',
        event: 'dsync.group.created',
        data: { object: 'directory_group', id: 'directory_group_1', name: 'Sales' },
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      status: 'ignored',
      eventId: 'event_group_1',
      eventType: 'dsync.group.created',
    });
    expect(harness.deliveries).toHaveLength(0);
  });

  describe('refuses unauthenticated requests with 401 SIGNATURE_INVALID', () => {
    const header = (value: string) => withHeaders(signed(), { 'workos-signature': value });
    const cases: Array<[string, () => ReturnType<typeof workosEvent>]> = [
      ['signed with another secret', () => workosEvent(undefined, { now: NOW, secret: 'other' })],
      ['with no WorkOS-Signature', () => withoutHeaders(signed(), 'workos-signature')],
      ['with a tampered body', () => tamper(signed())],
      ['signed 6 minutes ago (stale)', () => workosEvent(undefined, { now: NOW - 360_000 })],
      ['signed 6 minutes ahead (future)', () => workosEvent(undefined, { now: NOW + 360_000 })],
      [
        'with a timestamp in seconds instead of ms',
        () => workosEvent(undefined, { timestampMs: Math.floor(NOW / 1000) }),
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
      ...commonBadInputs((body) => signed(body)),
      {
        name: 'wrong types',
        event: () => signed(userUpdated({ first_name: 42, emails: 'bob@example.com' })),
        status: 400,
        code: 'PAYLOAD_INVALID',
        paths: ['/data/first_name', '/data/emails'],
      },
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
