import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UserChange } from '../../lib/change.ts';
import {
  deduplicationId,
  parseEnvelope,
  toEnvelope,
  userGroupId,
} from '../../lib/queue/envelope.ts';

const change: UserChange = {
  connectionId: 'clerk-queued',
  eventId: 'msg_1',
  eventType: 'user.updated',
  occurredAt: '2025-01-01T00:00:00.000Z',
  subject: { externalId: 'ext-alice', email: 'alice@example.org', phone: '+6581234567' },
  attributes: { email: 'alice@example.org' },
  raw: { secret_note: 'personal data the consumer never needs' },
};
const connection = {
  id: 'clerk-queued',
  resolve: { by: 'indexedAttribute', index: 1 } as const,
};
const draft = { UserStoreId: 'local-store', Email: 'alice@example.org' };

describe('queue/envelope', () => {
  it('carries the draft, the resolved user and only the subject field resolution reads, never the raw payload', () => {
    const envelope = toEnvelope(
      connection,
      { change, draft },
      { receivedAt: '2025-01-01T00:00:01.000Z', traceId: 't-1', userId: 'demo-user-1' },
    );
    expect(envelope).toEqual({
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'msg_1',
      eventType: 'user.updated',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:01.000Z',
      traceId: 't-1',
      subject: { externalId: 'ext-alice' },
      userId: 'demo-user-1',
      draft,
    });
    expect(JSON.stringify(envelope)).not.toContain('secret_note');
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('carries the group memberships a change sets, and refuses malformed ones', () => {
    const memberships = [
      { groupId: 'group-staff', member: true },
      { groupId: 'group-admins', member: false },
    ];
    const envelope = toEnvelope(
      connection,
      { change, draft, memberships },
      { receivedAt: '2025-01-01T00:00:01.000Z', userId: 'demo-user-1' },
    );
    expect(envelope.memberships).toEqual(memberships);
    expect(parseEnvelope(JSON.stringify(envelope)).memberships).toEqual(memberships);
    for (const bad of [
      [{ groupId: '', member: true }],
      [{ groupId: 'g' }],
      'g',
      [{ groupId: 'g', member: true, x: 1 }],
    ]) {
      expect(() => parseEnvelope(JSON.stringify({ ...envelope, memberships: bad }))).toThrow(
        expect.objectContaining({ code: 'MESSAGE_INVALID' }),
      );
    }
  });

  it('still reads an envelope queued before the producer resolved users (no userId)', () => {
    const old = {
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'msg_1',
      eventType: 'user.updated',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:01.000Z',
      subject: { externalId: 'ext-alice' },
      draft,
    };
    const parsed = parseEnvelope(JSON.stringify(old));
    expect(parsed).toEqual(old);
    expect(parsed.userId).toBeUndefined();
  });

  it('refuses a change without the field the connection resolves by', () => {
    expect(() =>
      toEnvelope(
        { id: 'c', resolve: { by: 'userId' } },
        { change, draft },
        { receivedAt: change.occurredAt },
      ),
    ).toThrow(expect.objectContaining({ code: 'USER_NOT_FOUND' }));
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', JSON.stringify({ v: 2 })],
    ['a bad time', JSON.stringify({ ...base(), occurredAt: 'yesterday' })],
    ['two subject fields', JSON.stringify({ ...base(), subject: { email: 'a', phone: 'b' } })],
    ['an unknown subject field', JSON.stringify({ ...base(), subject: { name: 'a' } })],
    ['an empty userId', JSON.stringify({ ...base(), userId: '' })],
    ['a userId that is not a string', JSON.stringify({ ...base(), userId: 42 })],
    [
      'a draft with an unknown field',
      JSON.stringify({ ...base(), draft: { UserStoreId: 's', X: 1 } }),
    ],
    ['a draft without a user store', JSON.stringify({ ...base(), draft: {} })],
  ])('marks %s MESSAGE_INVALID (never retryable)', (_name, body) => {
    expect(() => parseEnvelope(body)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_INVALID', retryable: false }),
    );
  });

  it('names one group per user of a user store, within SQS limits, and no two users alike', () => {
    const part = fc.string({ minLength: 1, maxLength: 200, unit: 'binary' });
    fc.assert(
      fc.property(part, part, part, part, (storeA, userA, storeB, userB) => {
        const group = userGroupId(storeA, userA);
        // SQS: 1–128 characters of letters, digits and ASCII punctuation.
        expect(group).toMatch(/^[\x21-\x7e]{1,128}$/);
        expect(userGroupId(storeA, userA)).toBe(group);
        if (storeA !== storeB || userA !== userB) {
          expect(userGroupId(storeB, userB)).not.toBe(group);
        }
      }),
    );
  });

  it('names one group per user of a store of a tenant: two tenants never share one', () => {
    const part = fc.string({ minLength: 1, maxLength: 100, unit: 'binary' });
    const tenant = fc.oneof(fc.constant('default'), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/));
    fc.assert(
      fc.property(tenant, part, part, tenant, part, part, (tA, sA, uA, tB, sB, uB) => {
        const group = userGroupId(sA, uA, tA);
        expect(group).toMatch(/^[\x21-\x7e]{1,128}$/);
        if (tA !== tB || sA !== sB || uA !== uB) {
          expect(userGroupId(sB, uB, tB)).not.toBe(group);
        }
      }),
    );
    // The default tenant's groups are those from before tenants: old messages drain with new ones.
    expect(userGroupId('local-store', 'u1', 'default')).toBe(userGroupId('local-store', 'u1'));
    expect(userGroupId('local-store', 'u1', 'acme')).toBe('acme:local-store:u1');
    expect(userGroupId('local-store', 'u1', 'acme')).not.toBe(userGroupId('local-store', 'u1'));
  });

  it('keeps plain ids readable and hashes the rest, so a `:` cannot make two users one', () => {
    expect(userGroupId('local-store', 'demo-user-1')).toBe('local-store:demo-user-1');
    expect(userGroupId('a:b', 'c')).toMatch(/^[0-9a-f]{64}$/);
    expect(userGroupId('a:b', 'c')).not.toBe(userGroupId('a', 'b:c'));
    expect(userGroupId('s', 'u'.repeat(200))).toMatch(/^[0-9a-f]{64}$/);
    expect(userGroupId('s', 'user with spaces')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same event the same dedup id, and another connection another', () => {
    expect(deduplicationId('c1', 'e')).toBe(deduplicationId('c1', 'e'));
    expect(deduplicationId('c1', 'e')).not.toBe(deduplicationId('c2', 'e'));
    expect(deduplicationId('c1', 'e'.repeat(600))).toMatch(/^[0-9a-f]{64}$/);
  });
});

function base() {
  return toEnvelope(
    connection,
    { change, draft },
    { receivedAt: change.occurredAt, userId: 'demo-user-1' },
  );
}
