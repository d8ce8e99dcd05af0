import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeCustomAttributes } from '../../lib/ciam/custom-attributes.ts';
import {
  defaultStaleGuardAttribute,
  eventKeyOf,
  formatAppliedMark,
  parseAppliedMark,
  readAppliedMark,
  staleGuardOf,
  verdictOf,
} from '../../lib/ciam/stale-guard.ts';
import { suppliesEventTime } from '../../lib/sources/event-time.ts';

describe('ciam/stale-guard', () => {
  it('round-trips any watermark through its attribute value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -8.64e15, max: 8.64e15 }),
        fc.string({ minLength: 1, maxLength: 300 }),
        (occurredAtMs, eventId) => {
          const mark = { occurredAtMs, eventKey: eventKeyOf(eventId) };
          expect(parseAppliedMark(formatAppliedMark(mark))).toEqual(mark);
        },
      ),
    );
  });

  it('keeps short ids readable and hashes long or delimiter-bearing ones to a fixed size', () => {
    expect(eventKeyOf('msg_2a9')).toBe('msg_2a9');
    expect(eventKeyOf('x'.repeat(256))).toMatch(/^#[0-9a-f]{32}$/);
    expect(eventKeyOf('a;b')).toMatch(/^#[0-9a-f]{32}$/);
    expect(eventKeyOf('x'.repeat(256))).not.toBe(eventKeyOf(`${'x'.repeat(255)}y`));
  });

  it('ignores values that are not its own format', () => {
    for (const value of [undefined, '', 'hello', 'v2;1;a', 'v1;x;a', 'v1;1;', 'v1;1;a;b']) {
      expect(parseAppliedMark(value)).toBeUndefined();
    }
  });

  it('judges a later change newer, an earlier one stale, the same event or instant duplicate', () => {
    const current = { occurredAtMs: 1000, eventKey: 'b' };
    expect(verdictOf({ occurredAtMs: 1001, eventKey: 'c' }, current)).toBe('newer');
    expect(verdictOf({ occurredAtMs: 999, eventKey: 'a' }, current)).toBe('stale');
    expect(verdictOf({ occurredAtMs: 1000, eventKey: 'b' }, current)).toBe('duplicate');
    expect(verdictOf({ occurredAtMs: 1000, eventKey: 'z' }, current)).toBe('duplicate');
    expect(verdictOf({ occurredAtMs: 5, eventKey: 'b' }, current)).toBe('duplicate');
    expect(verdictOf({ occurredAtMs: 5, eventKey: 'b' }, undefined)).toBe('newer');
  });

  it('applies only the newest of any set of changes, whatever order they arrive in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 20 }),
        fc.func(fc.integer()),
        (times, shuffleKey) => {
          const arrivals = [...times].sort((a, b) => shuffleKey(a) - shuffleKey(b));
          let current: ReturnType<typeof parseAppliedMark>;
          for (const t of arrivals) {
            const mark = { occurredAtMs: t, eventKey: `e${t}` };
            if (verdictOf(mark, current) === 'newer') current = mark;
          }
          expect(current?.occurredAtMs).toBe(Math.max(...times));
        },
      ),
    );
  });

  it('reads its own attribute among others', () => {
    const attributes = [
      { Name: 'plan', Value: 'pro' },
      { Name: 'adapter_watermark_clerk', Value: 'v1;42;msg_1' },
    ];
    expect(readAppliedMark(attributes, 'adapter_watermark_clerk')).toEqual({
      occurredAtMs: 42,
      eventKey: 'msg_1',
    });
    expect(readAppliedMark(attributes, 'adapter_watermark_okta')).toBeUndefined();
    expect(readAppliedMark(undefined, 'adapter_watermark_okta')).toBeUndefined();
  });

  it('names the default attribute per connection with safe characters', () => {
    expect(defaultStaleGuardAttribute('clerk-queued')).toBe('adapter_watermark_clerk_queued');
  });

  it('merges custom attributes without dropping any the user had, updates winning', () => {
    const merged = mergeCustomAttributes(
      [
        { Name: 'plan', Value: 'free', Type: 'STRING' },
        { Name: 'region', Value: 'sg', Type: 'STRING' },
      ],
      [
        { Name: 'plan', Value: 'pro', Type: 'STRING' },
        { Name: 'seats', Value: '3', Type: 'STRING' },
      ],
    );
    expect(merged).toEqual([
      { Name: 'plan', Value: 'pro', Type: 'STRING' },
      { Name: 'region', Value: 'sg', Type: 'STRING' },
      { Name: 'seats', Value: '3', Type: 'STRING' },
    ]);
  });

  it('is on by default exactly where the source supplies event times', () => {
    const connection = { id: 'a-b', mapping: {} };
    expect(staleGuardOf(connection, true)).toEqual({
      attribute: 'adapter_watermark_a_b',
      type: 'STRING',
    });
    expect(staleGuardOf(connection, false)).toBeUndefined();
    expect(staleGuardOf({ ...connection, staleGuard: { enabled: true } }, false)).toBeDefined();
    expect(staleGuardOf({ ...connection, staleGuard: { enabled: false } }, true)).toBeUndefined();
    expect(
      staleGuardOf(
        { ...connection, staleGuard: { attribute: 'x' }, mapping: { customAttributeType: 'T' } },
        true,
      ),
    ).toEqual({ attribute: 'x', type: 'T' });
  });

  it('learns from each source whether it supplies event times', () => {
    expect(suppliesEventTime({ source: 'standard-webhooks', options: {} })).toBe(true);
    expect(suppliesEventTime({ source: 'scim', options: {} })).toBe(true);
    expect(suppliesEventTime({ source: 'hmac', options: {} })).toBe(false);
    expect(suppliesEventTime({ source: 'hmac', options: { fields: { occurredAt: 'ts' } } })).toBe(
      true,
    );
    expect(suppliesEventTime({ source: 'hmac', options: { timestampHeader: 'x-ts' } })).toBe(true);
  });
});
