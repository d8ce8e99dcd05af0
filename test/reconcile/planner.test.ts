import { describe, expect, it } from 'vitest';
import type { ApplyTarget } from '../../lib/ciam/apply.ts';
import { type Clock, connectionTag, encodeClocks } from '../../lib/ciam/field-clocks.ts';
import type { CiamUser, UpdateUserDraft } from '../../lib/ciam/types.ts';
import type { Connection } from '../../lib/config/types.ts';
import { applyTargetsOf } from '../../lib/delivery/delivery.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import {
  diffUser,
  findOrphans,
  maskValue,
  planSourceUser,
  type ReconcileTarget,
  trimDraft,
} from '../../lib/reconcile/planner.ts';
import { indexSnapshot } from '../../lib/reconcile/snapshot.ts';
import { sourceUser } from '../../local/reconcile.ts';

const connection: Connection = {
  id: 'clerk',
  source: 'standard-webhooks',
  userStoreId: 'store',
  secrets: { signing: [{ name: 'x' }] },
  resolve: { by: 'indexedAttribute', index: 1 },
  mapping: {},
  delivery: 'queued',
  options: {},
} as Connection;

const targetOf = (c: Connection): ReconcileTarget => {
  const target = applyTargetsOf({
    ciam: { endpoint: 'http://x', region: 'r', credentials: { name: 'c' } },
    connections: [c],
  } as never).get(c.id) as ApplyTarget;
  return { ...c, guard: target.guard };
};

const target = targetOf(connection);
const unguarded = targetOf({ ...connection, staleGuard: { enabled: false } } as Connection);
const T1 = Date.parse('2026-01-01T00:00:00Z');
const T2 = Date.parse('2026-02-01T00:00:00Z');
const snapshotClock: Clock = { at: T1, connection: connectionTag('clerk'), event: 'AAAAAAAA' };

const clocksAttribute = (fields: Record<string, Clock>) => ({
  Name: 'adapter_field_clocks',
  Value: encodeClocks(new Map(Object.entries(fields))),
});

const draft = (fields: Partial<UpdateUserDraft>): UpdateUserDraft =>
  ({ UserStoreId: 'store', ...fields }) as UpdateUserDraft;

describe('diffUser', () => {
  const webhook: Clock = { at: T2, connection: connectionTag('other'), event: 'BBBBBBBB' };
  const older: Clock = { at: T1 - 1000, connection: connectionTag('other'), event: 'CCCCCCCC' };
  it.each([
    {
      name: 'nothing differs',
      draft: draft({ Email: 'a@example.com' }),
      user: { UserId: 'u', Email: 'a@example.com' },
      fields: [],
      held: [],
    },
    {
      name: 'a field differs on a user the adapter never wrote',
      draft: draft({ Email: 'new@example.com', Nickname: 'Alice' }),
      user: { UserId: 'u', Email: 'old@example.com', Nickname: 'Alice' },
      fields: ['Email'],
      held: [],
    },
    {
      name: 'a newer webhook holds the field',
      draft: draft({ Email: 'new@example.com' }),
      user: {
        UserId: 'u',
        Email: 'webhook@example.com',
        CustomAttributes: [clocksAttribute({ Email: webhook })],
      },
      fields: [],
      held: ['Email'],
    },
    {
      name: 'an older clock gives way',
      draft: draft({ Email: 'new@example.com' }),
      user: {
        UserId: 'u',
        Email: 'old@example.com',
        CustomAttributes: [clocksAttribute({ Email: older })],
      },
      fields: ['Email'],
      held: [],
    },
    {
      name: 'lists compare as sets, unclocked',
      draft: draft({ UserGroup: ['b', 'a'], UserOrg: ['x'] }),
      user: { UserId: 'u', UserGroups: ['a', 'b'], UserOrgs: [] },
      fields: ['UserOrg'],
      held: [],
    },
    {
      name: 'custom attributes by name, as strings',
      draft: draft({
        CustomizationAttributes: [
          { Name: 'plan', Value: 'pro', Type: 'STRING' },
          { Name: 'seats', Value: '3', Type: 'STRING' },
        ],
      }),
      user: {
        UserId: 'u',
        CustomAttributes: [
          { Name: 'plan', Value: 'free' },
          { Name: 'seats', Value: '3' },
        ],
      },
      fields: ['custom:plan'],
      held: [],
    },
  ])('$name', ({ draft: d, user, fields, held }) => {
    const diff = diffUser(d, user as CiamUser, target, snapshotClock);
    expect(diff.fields.map(({ field }) => field)).toEqual(fields);
    expect(diff.held.map(({ field }) => field)).toEqual(held);
  });

  it('without the stale-event guard, every differing field changes', () => {
    const user = {
      UserId: 'u',
      Email: 'webhook@example.com',
      CustomAttributes: [clocksAttribute({ Email: webhook })],
    };
    const diff = diffUser(draft({ Email: 'new@example.com' }), user, unguarded, undefined);
    expect(diff.fields.map(({ field }) => field)).toEqual(['Email']);
  });

  it('masks values as the logs do', () => {
    const diff = diffUser(
      draft({ Email: 'new.person@example.com', PhoneNumber: '+6581234567', Nickname: 'Alice' }),
      { UserId: 'u', Email: 'old.person@example.com' },
      target,
      snapshotClock,
    );
    expect(diff.fields).toEqual([
      { field: 'Email', from: 'ol***@example.com', to: 'ne***@example.com' },
      { field: 'PhoneNumber', from: '(none)', to: '+65******67' },
      { field: 'Nickname', from: '(none)', to: 'A***' },
    ]);
    expect(JSON.stringify(diff)).not.toContain('person');
  });
});

describe('maskValue', () => {
  it.each([
    ['Email', 'someone@example.com', 'so***@example.com'],
    ['PhoneNumber', '+6581234567', '+65******67'],
    ['IndexedAttribute1', 'user_123', 'user_123'],
    ['Birthdate', 946684800000, '***'],
    ['Address', '1 Main Street', '1***'],
    ['UserGroup', ['a', 'b'], '[2]'],
    ['Nickname', undefined, '(none)'],
  ])('%s', (field, value, shown) => {
    expect(maskValue(field, value)).toBe(shown);
  });
});

describe('trimDraft', () => {
  it('keeps only the planned fields and the user store', () => {
    const trimmed = trimDraft(
      draft({
        Email: 'a@example.com',
        Nickname: 'A',
        CustomizationAttributes: [
          { Name: 'plan', Value: 'pro' },
          { Name: 'seats', Value: '3' },
        ],
      }),
      ['Email', 'custom:seats'],
    );
    expect(trimmed).toEqual({
      UserStoreId: 'store',
      Email: 'a@example.com',
      CustomizationAttributes: [{ Name: 'seats', Value: '3' }],
    });
  });
});

describe('planSourceUser', () => {
  const mapper = compileMapping(connection);
  const at = '2026-01-01T00:00:00.000Z';
  const users: CiamUser[] = [
    { UserId: 'u1', IndexedAttribute1: 'ext_1', Email: 'old@example.com' },
    { UserId: 'u2', IndexedAttribute1: 'ext_2', Email: 'same@example.com' },
    { UserId: 'u3', IndexedAttribute1: 'twice' },
    { UserId: 'u4', IndexedAttribute1: 'twice' },
  ];
  const index = indexSnapshot(connection.resolve, users);
  // 'bad-phone' stands for a user whose phone no mapping accepts.
  const plan = (externalId: string, email: string) =>
    planSourceUser(
      sourceUser('clerk', externalId, at, email === 'bad-phone' ? { phone: '12' } : { email }),
      { index, target, mapper },
    );

  it.each([
    ['ext_1', 'new@example.com', 'change', 'u1'],
    ['ext_2', 'same@example.com', undefined, 'u2'],
    ['ext_3', 'x@example.com', 'unmatched', undefined],
    ['twice', 'x@example.com', 'error', undefined],
    // Its CIAM user is still found: not an orphan for want of a mapping.
    ['ext_1', 'bad-phone', 'error', 'u1'],
  ])('%s <%s>: %s', async (externalId, email, kind, matched) => {
    const planned = await plan(externalId, email);
    expect(planned.entry?.kind).toBe(kind);
    expect(planned.matchedUserId).toBe(matched);
  });

  it('reports an ambiguous match and a mapping failure by code', async () => {
    expect((await plan('twice', 'x@example.com')).entry).toMatchObject({ code: 'USER_AMBIGUOUS' });
    expect((await plan('ext_1', 'bad-phone')).entry).toMatchObject({
      code: 'MAPPING_INVALID',
    });
  });
});

describe('findOrphans', () => {
  const mine = clocksAttribute({ Email: snapshotClock });
  const theirs = clocksAttribute({
    Email: { at: T1, connection: connectionTag('workos'), event: 'AAAAAAAA' },
  });
  it('names only unmatched users whose clocks name this connection', () => {
    const users: CiamUser[] = [
      { UserId: 'matched', CustomAttributes: [mine] },
      { UserId: 'gone', CustomAttributes: [mine], Status: 'NORMAL' },
      { UserId: 'other-connection', CustomAttributes: [theirs] },
      { UserId: 'never-written' },
    ];
    expect(findOrphans(users, new Set(['matched']), target)).toEqual([
      { kind: 'orphaned', userId: 'gone', status: 'NORMAL' },
    ]);
    expect(findOrphans(users, new Set(), unguarded)).toEqual([]);
  });
});
