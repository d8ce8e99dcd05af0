import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/config/types.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';
import { workosSource } from '../../lib/sources/workos/index.ts';
import { signWorkos } from '../../lib/sources/workos/signature.ts';
import { fixturePayload, readRequest } from '../helpers/events.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

// identity-sources §7.4 (self-computed with Node and Python).
const VECTOR_SECRET = 'wos_test_secret_123';
const VECTOR_T = 1700000000000;
const VECTOR_BODY =
  '{"id":"event_01HXYZ","event":"dsync.user.updated","data":{"id":"directory_user_01ABC"},"created_at":"2023-11-14T22:13:20.000Z"}';
const VECTOR_HEX = '2e360895a8d8da8a836befe65ead15a1ea460d635ccfd0846fcb8c25f61fc00d';
const VECTOR_HEADER = `t=${VECTOR_T}, v1=${VECTOR_HEX}`;
const DEMO_SECRET = 'wos_demo_secret';

const fixture = readRequest('workos.user-updated');

const connection = (
  options: Record<string, unknown> = {},
  signing: string[] = ['signing'],
): Connection => sourceConnection('workos', 'workos', options, signing, 'queued');

const context = (nowMs: number, secrets: Record<string, string> = { signing: VECTOR_SECRET }) =>
  sourceContext(nowMs, secrets);

const request = (headers: Record<string, string>, body: string | Buffer): InboundRequest =>
  inboundRequest('/webhooks/workos', headers, body);

const signed = (header: string, body = VECTOR_BODY) =>
  request({ 'workos-signature': header }, body);

const source = workosSource.prepare(connection());
const rejection = (reason: string) => ({
  code: 'SIGNATURE_INVALID',
  statusCode: 401,
  details: { reason },
});

describe('workosSource.prepare', () => {
  it.each([
    [{ tolerance: 10 }],
    [{ toleranceSeconds: -1 }],
    [{ toleranceSeconds: 1.5 }],
    [{ eventTypes: [1] }],
  ])('throws CONFIG_INVALID for options %j', (options) => {
    expect(() => workosSource.prepare(connection(options))).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('signWorkos', () => {
  it('reproduces the self-computed vector', () => {
    expect(signWorkos(VECTOR_SECRET, VECTOR_T, VECTOR_BODY)).toBe(VECTOR_HEADER);
  });
});

describe('workosSource.authenticate', () => {
  it('accepts the vector at its own time', async () => {
    await expect(
      source.authenticate(signed(VECTOR_HEADER), context(VECTOR_T)),
    ).resolves.toBeUndefined();
  });

  it.each([
    ['without the space', `t=${VECTOR_T},v1=${VECTOR_HEX}`],
    ['with extra whitespace', ` t = ${VECTOR_T} ,  v1 = ${VECTOR_HEX} `],
    ['with the parts reversed', `v1=${VECTOR_HEX}, t=${VECTOR_T}`],
    ['in upper-case hex', `t=${VECTOR_T}, v1=${VECTOR_HEX.toUpperCase()}`],
    ['among several v1 entries', `t=${VECTOR_T}, v1=${'0'.repeat(64)}, v1=${VECTOR_HEX}`],
    ['next to an unknown scheme', `t=${VECTOR_T}, v0=abc, v1=${VECTOR_HEX}`],
  ])('parses the header %s', async (_label, header) => {
    await expect(source.authenticate(signed(header), context(VECTOR_T))).resolves.toBeUndefined();
  });

  it.each([
    ['180 s old', VECTOR_T + 180_000, true],
    ['180.001 s old', VECTOR_T + 180_001, false],
    ['180 s ahead', VECTOR_T - 180_000, true],
    ['180.001 s ahead', VECTOR_T - 180_001, false],
  ])('checks the tolerance in milliseconds, both ways (%s)', async (_label, now, ok) => {
    const outcome = source.authenticate(signed(VECTOR_HEADER), context(now));
    if (ok) await expect(outcome).resolves.toBeUndefined();
    else await expect(outcome).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
  });

  it('uses the configured tolerance', async () => {
    const relaxed = workosSource.prepare(connection({ toleranceSeconds: 600 }));
    await expect(
      relaxed.authenticate(signed(VECTOR_HEADER), context(VECTOR_T + 599_000)),
    ).resolves.toBeUndefined();
  });

  it('rejects a timestamp given in seconds as far too old', async () => {
    const t = VECTOR_T / 1000;
    await expect(
      source.authenticate(signed(signWorkos(VECTOR_SECRET, t, VECTOR_BODY)), context(VECTOR_T)),
    ).rejects.toMatchObject(rejection('timestamp_out_of_tolerance'));
  });

  it.each([
    ['a missing header', undefined, 'missing_headers'],
    ['an empty header', '', 'missing_headers'],
    ['no timestamp', `v1=${VECTOR_HEX}`, 'malformed_header'],
    ['two timestamps', `t=${VECTOR_T}, t=${VECTOR_T}, v1=${VECTOR_HEX}`, 'malformed_header'],
    ['a non-numeric timestamp', `t=now, v1=${VECTOR_HEX}`, 'malformed_header'],
    ['no signature', `t=${VECTOR_T}`, 'malformed_header'],
    ['a short signature', `t=${VECTOR_T}, v1=${VECTOR_HEX.slice(2)}`, 'malformed_header'],
    ['garbage', 'garbage', 'malformed_header'],
    ['a wrong signature', `t=${VECTOR_T}, v1=${'ab'.repeat(32)}`, 'no_matching_signature'],
  ])('rejects %s', async (_label, header, reason) => {
    const headers: Record<string, string> =
      header === undefined ? {} : { 'workos-signature': header };
    await expect(
      source.authenticate(request(headers, VECTOR_BODY), context(VECTOR_T)),
    ).rejects.toMatchObject(rejection(reason));
  });

  it('rejects a tampered body or timestamp', async () => {
    await expect(
      source.authenticate(
        signed(VECTOR_HEADER, VECTOR_BODY.replace('01ABC', '01ABD')),
        context(VECTOR_T),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
    await expect(
      source.authenticate(signed(`t=${VECTOR_T + 1}, v1=${VECTOR_HEX}`), context(VECTOR_T)),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('rejects a signature made with another secret', async () => {
    await expect(
      source.authenticate(signed(VECTOR_HEADER), context(VECTOR_T, { signing: DEMO_SECRET })),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('accepts a signature matching either secret during a rotation', async () => {
    const rotating = workosSource.prepare(connection({}, ['old', 'new']));
    const header = signWorkos('new-secret', VECTOR_T, VECTOR_BODY);
    await expect(
      rotating.authenticate(
        signed(header),
        context(VECTOR_T, { old: VECTOR_SECRET, new: 'new-secret' }),
      ),
    ).resolves.toBeUndefined();
    await expect(
      rotating.authenticate(
        signed(VECTOR_HEADER),
        context(VECTOR_T, { old: VECTOR_SECRET, new: 'new-secret' }),
      ),
    ).resolves.toBeUndefined();
    await expect(
      rotating.authenticate(
        signed(header),
        context(VECTOR_T, { old: VECTOR_SECRET, new: 'other' }),
      ),
    ).rejects.toMatchObject(rejection('no_matching_signature'));
  });

  it('accepts any signed body and rejects any one-byte change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (bytes, position, flip) => {
          const body = Buffer.from(bytes);
          const header = signWorkos(VECTOR_SECRET, VECTOR_T, body);
          await source.authenticate(
            request({ 'workos-signature': header }, body),
            context(VECTOR_T),
          );
          const tampered = Buffer.concat([body, Buffer.from('}')]);
          const index = position % tampered.length;
          tampered[index] = (tampered[index] ?? 0) ^ flip;
          await expect(
            source.authenticate(
              request({ 'workos-signature': header }, tampered),
              context(VECTOR_T),
            ),
          ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('verifies the fixture with the demo secret at its time, and re-signed now', async () => {
    const header = fixture.headers['workos-signature'] ?? '';
    const sentAt = Number(/t=(\d+)/.exec(header)?.[1]);
    await expect(
      source.authenticate(
        request(fixture.headers, fixture.rawBody),
        context(sentAt, { signing: DEMO_SECRET }),
      ),
    ).resolves.toBeUndefined();
    const now = Date.now();
    const fresh = {
      ...fixture.headers,
      'workos-signature': signWorkos(DEMO_SECRET, now, fixture.rawBody),
    };
    await expect(
      source.authenticate(request(fresh, fixture.rawBody), context(now, { signing: DEMO_SECRET })),
    ).resolves.toBeUndefined();
  });
});

const userEvent = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'event_01',
  event: 'dsync.user.updated',
  data: { object: 'directory_user', id: 'directory_user_01', ...data },
  ...extra,
});

const parse = (payload: unknown, src = source) => src.parse(payload, request({}, ''));

describe('workosSource.parse', () => {
  it('returns the typed event and its directory user', () => {
    const payload = fixturePayload('workos.user-updated');
    expect(parse(payload)).toEqual({ event: payload, user: payload.data });
    const vector = JSON.parse(VECTOR_BODY);
    expect(parse(vector)).toEqual({ event: vector, user: vector.data });
  });

  it.each([
    ['a string payload', 'event', ''],
    ['a missing event id', { event: 'dsync.user.updated', data: { id: 'u' } }, '/id'],
    ['a numeric event id', { ...userEvent({}), id: 12 }, '/id'],
    ['a missing event type', { id: 'e', data: { id: 'u' } }, '/event'],
    ['data as an array', { ...userEvent({}), data: [] }, '/data'],
    ['a missing user id', { ...userEvent({}), data: { email: 'x@example.com' } }, '/data/id'],
    ['a huge numeric user id', userEvent({ id: JSON.parse('1e400') }), '/data/id'],
    ['a numeric email', userEvent({ email: 1 }), '/data/email'],
    ['emails as an object', userEvent({ emails: { value: 'x' } }), '/data/emails'],
    [
      'a string primary flag',
      userEvent({ emails: [{ primary: 'yes', value: 'x' }] }),
      '/data/emails/0/primary',
    ],
    [
      'custom_attributes as a string',
      userEvent({ custom_attributes: 'x' }),
      '/data/custom_attributes',
    ],
    ['a numeric updated_at', userEvent({ updated_at: 1e300 }), '/data/updated_at'],
  ])('throws PAYLOAD_INVALID for %s', (_label, payload, path) => {
    expect(() => parse(payload)).toThrow(
      expect.objectContaining({
        code: 'PAYLOAD_INVALID',
        statusCode: 400,
        details: expect.arrayContaining([expect.objectContaining({ path })]),
      }),
    );
  });

  it('does not require a directory user in event types it ignores', () => {
    const payload = { id: 'e', event: 'dsync.group.updated', data: { name: 'Staff' } };
    expect(parse(payload)).toEqual({ event: payload });
  });

  it('caps the event id at 256 characters, naming the field and not quoting it', () => {
    const longId = `event_${'x'.repeat(251)}`;
    let thrown: unknown;
    try {
      parse(userEvent({}, { id: longId }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'PAYLOAD_INVALID',
      statusCode: 400,
      details: [{ path: '/id', message: expect.any(String) }],
    });
    expect(JSON.stringify(thrown)).not.toContain(longId);
    expect(parse(userEvent({}, { id: longId.slice(1) })).event.id).toHaveLength(256);
  });
});

describe('workosSource.toChanges', () => {
  const deliver = async (payload: unknown, src = source) =>
    src.toChanges(parse(payload, src), request({}, ''), context(1_735_689_600_000));

  it('takes the parsed delivery as it is, without validating again', async () => {
    // data without a user id: parse() would refuse it, toChanges trusts what it is given.
    const event = { id: 'event_given', event: 'dsync.user.updated', data: {} };
    expect(() => parse(event)).toThrow(expect.objectContaining({ code: 'PAYLOAD_INVALID' }));
    const outcome = await source.toChanges(
      { event, user: { id: 'directory_user_9' } },
      request({}, ''),
      context(1_735_689_600_000),
    );
    expect(outcome.changes[0]).toMatchObject({
      eventId: 'event_given',
      subject: { externalId: 'directory_user_9' },
    });
  });

  it('maps the fixture to one canonical change', async () => {
    const payload = fixturePayload('workos.user-updated');
    await expect(deliver(payload)).resolves.toEqual({
      ignored: [],
      changes: [
        {
          connectionId: 'workos',
          eventId: 'event_01JGDEMOBOB0000000000000',
          eventType: 'dsync.user.updated',
          occurredAt: '2024-12-31T23:59:58.000Z',
          subject: { externalId: 'ext-bob', email: 'bob@example.com', userName: 'bob' },
          attributes: {
            userName: 'bob',
            email: 'bob@example.com',
            nickname: 'Bob Brown',
            givenName: 'Bob',
            familyName: 'Brown',
            custom: { department: 'Sales', employee_id: 'E-1024' },
          },
          raw: payload.data,
        },
      ],
    });
  });

  it.each([
    ['the primary entry', [{ value: 'a@x.com' }, { primary: true, value: 'b@x.com' }], 'b@x.com'],
    [
      'the first entry without a primary',
      [{ primary: false, value: 'a@x.com' }, { value: 'b@x.com' }],
      'a@x.com',
    ],
    [
      'the first entry with a value',
      [{ primary: true, value: null }, { value: 'c@x.com' }],
      'c@x.com',
    ],
    ['nothing from an empty list', [], undefined],
  ])('takes the email from %s when data.email is absent', async (_label, emails, email) => {
    const { changes } = await deliver(userEvent({ email: null, emails }));
    expect(changes[0]?.subject.email).toBe(email);
    expect(changes[0]?.attributes.email).toBe(email);
  });

  it('prefers data.email over emails[]', async () => {
    const { changes } = await deliver(
      userEvent({ email: 'direct@x.com', emails: [{ primary: true, value: 'list@x.com' }] }),
    );
    expect(changes[0]?.subject.email).toBe('direct@x.com');
  });

  it('falls back from updated_at to created_at, the envelope, then the delivery time', async () => {
    const created = await deliver(userEvent({ created_at: '2024-01-10T09:00:00.000Z' }));
    expect(created.changes[0]?.occurredAt).toBe('2024-01-10T09:00:00.000Z');
    const envelope = await deliver(
      userEvent({ updated_at: 'not a date' }, { created_at: '2024-06-01T12:00:00.000Z' }),
    );
    expect(envelope.changes[0]?.occurredAt).toBe('2024-06-01T12:00:00.000Z');
    const delivered = await deliver(userEvent({}));
    expect(delivered.changes[0]?.occurredAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('builds the nickname from whichever names exist', async () => {
    const { changes } = await deliver(userEvent({ first_name: null, last_name: 'Doe' }));
    expect(changes[0]?.attributes).toEqual({ nickname: 'Doe', familyName: 'Doe' });
  });

  it('ignores event types outside the list', async () => {
    await expect(
      deliver({ id: 'event_9', event: 'dsync.user.deleted', data: { id: 'directory_user_01' } }),
    ).resolves.toEqual({
      changes: [],
      ignored: [
        { eventId: 'event_9', eventType: 'dsync.user.deleted', reason: 'event_type_not_handled' },
      ],
    });
    const created = workosSource.prepare(connection({ eventTypes: ['dsync.user.created'] }));
    const { ignored } = await deliver(userEvent({}), created);
    expect(ignored).toEqual([
      { eventId: 'event_01', eventType: 'dsync.user.updated', reason: 'event_type_not_handled' },
    ]);
  });

  it('keeps __proto__ keys from polluting prototypes', async () => {
    const payload = JSON.parse(
      '{"id":"e","event":"dsync.user.created","data":{"id":"u","__proto__":{"polluted":true},' +
        '"custom_attributes":{"__proto__":{"polluted":true},"constructor":"x","cost_center":"42"}}}',
    );
    const { changes } = await deliver(payload);
    expect(changes[0]?.attributes.custom).toEqual({ cost_center: '42' });
    expect(Object.getPrototypeOf(changes[0]?.attributes.custom)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
