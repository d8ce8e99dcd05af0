import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UserChange } from '../../lib/change.ts';
import {
  deduplicationId,
  messageGroupId,
  parseEnvelope,
  toEnvelope,
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
  it('carries the draft and only the subject field resolution reads, never the raw payload', () => {
    const envelope = toEnvelope(connection, { change, draft }, '2025-01-01T00:00:01.000Z', 't-1');
    expect(envelope).toEqual({
      v: 1,
      connectionId: 'clerk-queued',
      eventId: 'msg_1',
      eventType: 'user.updated',
      occurredAt: '2025-01-01T00:00:00.000Z',
      receivedAt: '2025-01-01T00:00:01.000Z',
      traceId: 't-1',
      subject: { externalId: 'ext-alice' },
      draft,
    });
    expect(JSON.stringify(envelope)).not.toContain('secret_note');
    expect(parseEnvelope(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('refuses a change without the field the connection resolves by', () => {
    expect(() =>
      toEnvelope({ id: 'c', resolve: { by: 'userId' } }, { change, draft }, change.occurredAt),
    ).toThrow(expect.objectContaining({ code: 'USER_NOT_FOUND' }));
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', JSON.stringify({ v: 2 })],
    ['a bad time', JSON.stringify({ ...base(), occurredAt: 'yesterday' })],
    ['two subject fields', JSON.stringify({ ...base(), subject: { email: 'a', phone: 'b' } })],
    ['an unknown subject field', JSON.stringify({ ...base(), subject: { name: 'a' } })],
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

  it('keeps each user in one group per connection, and ids within SQS limits', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('externalId', 'email', 'phone', 'ciamUserId'),
        fc.string({ minLength: 1, maxLength: 600 }),
        (connectionId, field, value) => {
          const group = messageGroupId(connectionId, { field, value });
          expect(group.length).toBeLessThanOrEqual(128);
          expect(messageGroupId(connectionId, { field, value })).toBe(group);
          const dedup = deduplicationId(connectionId, value);
          expect(dedup).toMatch(/^[0-9a-f]{64}$/);
        },
      ),
    );
  });

  it('never puts an email or phone in a group id', () => {
    const group = messageGroupId('c', { field: 'email', value: 'alice@example.org' });
    expect(group).not.toContain('alice');
    expect(messageGroupId('c', { field: 'externalId', value: 'ext-alice' })).toBe(
      'c:externalId:ext-alice',
    );
  });

  it('gives different users and connections different groups, the same event the same dedup id', () => {
    const a = messageGroupId('c', { field: 'externalId', value: 'a'.repeat(200) });
    const b = messageGroupId('c', { field: 'externalId', value: `${'a'.repeat(199)}b` });
    expect(a).not.toBe(b);
    expect(deduplicationId('c1', 'e')).toBe(deduplicationId('c1', 'e'));
    expect(deduplicationId('c1', 'e')).not.toBe(deduplicationId('c2', 'e'));
  });
});

function base() {
  return toEnvelope(connection, { change, draft }, change.occurredAt);
}
