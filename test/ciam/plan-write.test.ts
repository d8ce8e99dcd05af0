import { describe, expect, it } from 'vitest';
import {
  type ApplyTarget,
  needsUserRead,
  type PlannedUpdate,
  planBatchWrite,
  planWrite,
} from '../../lib/ciam/apply.ts';
import { connectionTag, encodeClocks } from '../../lib/ciam/field-clocks.ts';
import { clockOf } from '../../lib/ciam/stale-guard.ts';
import type { CiamUser } from '../../lib/ciam/types.ts';

const guard = {
  attribute: 'adapter_field_clocks',
  type: 'STRING',
  connection: connectionTag('clerk'),
  authorityOf: () => undefined,
  legacy: [],
};
const guarded: ApplyTarget = {
  id: 'clerk',
  userStoreId: 'local-store',
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  guard,
};
const unguarded: ApplyTarget = { ...guarded, guard: undefined };

const planned = (eventId: string, at: string, draft: Record<string, unknown>): PlannedUpdate => ({
  change: { eventId, eventType: 'user.updated', occurredAt: at, subject: { externalId: 'x' } },
  draft: { UserStoreId: 'local-store', ...draft },
});

const withClock = (update: PlannedUpdate, fields: string[]): CiamUser => {
  const clock = clockOf(guard, update.change);
  if (clock === undefined) throw new Error('no clock');
  return {
    UserId: 'u1',
    CustomAttributes: [
      {
        Name: 'adapter_field_clocks',
        Value: encodeClocks(new Map(fields.map((field) => [field, clock]))),
        Type: 'STRING',
      },
    ],
  };
};

describe('planWrite', () => {
  it('sends an unguarded change as carried, without reading the user', () => {
    const update = planned('e1', '2025-01-01T00:00:00Z', { Nickname: 'Ada' });
    expect(needsUserRead(unguarded, update)).toBe(false);
    expect(planWrite(unguarded, update, 'u1', undefined)).toEqual({
      action: 'write',
      status: 'applied',
      request: { UserStoreId: 'local-store', Nickname: 'Ada', UserId: 'u1' },
    });
  });

  it('needs the user wherever applying reads it', () => {
    const update = planned('e1', '2025-01-01T00:00:00Z', { Nickname: 'Ada' });
    expect(needsUserRead(guarded, update)).toBe(true);
    expect(() => planWrite(guarded, update, 'u1', undefined)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    expect(() =>
      planWrite(guarded, planned('e1', 'not a time', { Nickname: 'Ada' }), 'u1', {}),
    ).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('skips what the user holds already, and writes the rest as partial', () => {
    const newer = planned('e2', '2025-02-01T00:00:00Z', { Nickname: 'New' });
    const user = withClock(newer, ['Nickname']);
    const older = planned('e1', '2025-01-01T00:00:00Z', { Nickname: 'Old', Address: 'Here' });
    const plan = planWrite(guarded, older, 'u1', user);
    expect(plan).toMatchObject({
      action: 'write',
      status: 'partial',
      fields: ['Address'],
      skipped: [{ field: 'Nickname', verdict: 'stale' }],
    });
    expect(plan.action === 'write' && plan.request).not.toHaveProperty('Nickname');
    expect(planWrite(guarded, newer, 'u1', user)).toEqual({
      action: 'skip',
      reason: 'duplicate',
      skipped: [{ field: 'Nickname', verdict: 'duplicate' }],
    });
  });

  it('plans a coalesced write as applyUpdates sends it', () => {
    const first = planned('e1', '2025-01-01T00:00:00Z', { Nickname: 'A', Address: 'X' });
    const second = planned('e2', '2025-01-02T00:00:00Z', { Nickname: 'B' });
    const { request, entries } = planBatchWrite(guarded, [first, second], 'u1', { UserId: 'u1' });
    expect(request).toMatchObject({ Nickname: 'B', Address: 'X', UserId: 'u1' });
    expect(entries).toEqual([
      { eventId: 'e1', kept: ['Address'], overtaken: ['Nickname'], skipped: [] },
      { eventId: 'e2', kept: ['Nickname'], overtaken: [], skipped: [] },
    ]);
    expect(() => planBatchWrite(unguarded, [first], 'u1', {})).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    const user = withClock(second, ['Nickname']);
    expect(planBatchWrite(guarded, [second], 'u1', user).request).toBeUndefined();
  });
});
