import { describe, expect, it } from 'vitest';
import {
  type ClockField,
  connectionTag,
  encodeClocks,
  eventTag,
} from '../../lib/ciam/field-clocks.ts';
import {
  clockOf,
  legacyMarkAttribute,
  parseAppliedMark,
  readClocks,
  type StaleGuard,
} from '../../lib/ciam/stale-guard.ts';

const guard = (legacy: StaleGuard['legacy'] = []): StaleGuard => ({
  attribute: 'adapter_field_clocks',
  type: 'STRING',
  connection: connectionTag('clerk'),
  authorityOf: () => undefined,
  legacy,
});

const clerkMark = {
  attribute: legacyMarkAttribute('clerk'),
  connection: connectionTag('clerk'),
  covers: (field: ClockField) => field !== 'Address',
};

describe('ciam/stale-guard', () => {
  it('names the earlier-version mark attribute of a connection as those versions did', () => {
    expect(legacyMarkAttribute('a-b.c')).toBe('adapter_watermark_a_b_c');
  });

  it('parses only marks earlier versions wrote', () => {
    expect(parseAppliedMark('v1;1735689600000;msg_1')).toEqual({
      occurredAtMs: 1_735_689_600_000,
      eventKey: 'msg_1',
    });
    for (const value of [undefined, 'v2;1;x', 'v1;x;y', 'v1;1;', 'v1;1;a;b']) {
      expect(parseAppliedMark(value)).toBeUndefined();
    }
  });

  it("reads an earlier version's mark as the clock of the fields its connection maps", () => {
    const clocks = readClocks(
      [{ Name: clerkMark.attribute, Value: 'v1;1000;msg_1' }],
      guard([clerkMark]),
      ['Nickname', 'Address'],
    );
    expect(clocks.get('Nickname')).toEqual({
      at: 1000,
      connection: connectionTag('clerk'),
      event: eventTag('msg_1'),
    });
    // Not a field that connection maps: unprotected until a change sets it.
    expect(clocks.has('Address')).toBe(false);
  });

  it('prefers the stored field clocks over an earlier mark, once they exist', () => {
    const stored = { at: 5000, connection: connectionTag('hmac'), event: eventTag('h') };
    const clocks = readClocks(
      [
        { Name: clerkMark.attribute, Value: 'v1;9000;msg_9' },
        { Name: 'adapter_field_clocks', Value: encodeClocks(new Map([['Nickname', stored]])) },
      ],
      guard([clerkMark]),
      ['Nickname', 'Email'],
    );
    expect(clocks.get('Nickname')).toEqual(stored);
    expect(clocks.get('Email')?.at).toBe(9000);
  });

  it('takes the newest of several connections’ marks for a field both map', () => {
    const hmacMark = {
      attribute: legacyMarkAttribute('hmac'),
      connection: connectionTag('hmac'),
      covers: () => true,
    };
    const clocks = readClocks(
      [
        { Name: clerkMark.attribute, Value: 'v1;1000;c' },
        { Name: hmacMark.attribute, Value: 'v1;2000;h' },
      ],
      guard([clerkMark, hmacMark]),
      ['Email'],
    );
    expect(clocks.get('Email')).toMatchObject({ at: 2000, connection: connectionTag('hmac') });
  });

  it('clocks a change by its event time, this connection and its event', () => {
    expect(clockOf(guard(), { eventId: 'e', occurredAt: '2025-01-01T00:00:00.000Z' })).toEqual({
      at: Date.UTC(2025, 0, 1),
      connection: connectionTag('clerk'),
      event: eventTag('e'),
    });
    expect(clockOf(guard(), { eventId: 'e', occurredAt: 'not a time' })).toBeUndefined();
  });
});
