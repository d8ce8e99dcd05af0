import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLOCKED_FIELDS,
  type Clock,
  type ClockField,
  compactMemberships,
  connectionTag,
  customField,
  decodeClocks,
  encodeClocks,
  eventTag,
  groupField,
  MAX_CLOCKS_CHARS,
  MEMBERSHIP_FLOOR,
  maxEncodedLength,
  planFieldWrite,
  planMemberships,
  verdictFor,
} from '../../lib/ciam/field-clocks.ts';
import { sha256Hex } from '../../lib/hash.ts';

const CONNECTIONS = ['clerk', 'entra-scim', 'hmac'].map(connectionTag);

const clocks = fc.record({
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  connection: fc.constantFrom(...CONNECTIONS),
  event: fc.string({ minLength: 1, maxLength: 20 }).map(eventTag),
});

const fields = fc.constantFrom<ClockField>(
  ...CLOCKED_FIELDS,
  customField('tier'),
  customField('plan'),
);

describe('ciam/field-clocks', () => {
  it('round-trips any set of clocks through its attribute value', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fields, clocks), { maxLength: 15 }), (entries) => {
        const map = new Map(entries);
        expect(decodeClocks(encodeClocks(map))).toEqual(map);
      }),
    );
  });

  it('writes each distinct clock once: a snapshot costs one clock for all its fields', () => {
    const clock: Clock = { at: 1_735_689_600_000, connection: CONNECTIONS[0] ?? '', event: 'a' };
    const value = encodeClocks(
      new Map([
        ['Email', { ...clock, event: eventTag('e1') }],
        ['Nickname', { ...clock, event: eventTag('e1') }],
      ]),
    );
    expect(value).toBe(`2|${clock.at.toString(36)}.${clock.connection}.${eventTag('e1')}|e0,n0`);
  });

  it('stays within the attribute for every field set by a different change, with room to spare', () => {
    const worst = new Map<ClockField, Clock>();
    const fieldsOfStore = [...CLOCKED_FIELDS, ...['a', 'b', 'c', 'd'].map(customField)];
    fieldsOfStore.forEach((field, index) => {
      worst.set(field, {
        at: 4_102_444_800_000 + index,
        connection: CONNECTIONS[index % 3] ?? '',
        event: eventTag(`event-${index}`),
      });
    });
    const length = encodeClocks(worst).length;
    expect(length).toBeLessThanOrEqual(maxEncodedLength(CLOCKED_FIELDS.length, 4));
    expect(maxEncodedLength(CLOCKED_FIELDS.length, 4)).toBeLessThan(MAX_CLOCKS_CHARS);
  });

  it('reads a value that is absent, foreign or damaged as no clocks at all', () => {
    for (const value of [undefined, '', 'v1;123;evt', '2|zz|u0', '2|1.abcde.abcdefgh|u9', '2|x']) {
      expect(decodeClocks(value).size).toBe(0);
    }
  });

  it('gives a long event id stored as a hash by earlier versions the same tag as the id', () => {
    const id = 'x'.repeat(300);
    expect(eventTag(`#${sha256Hex(id).slice(0, 32)}`)).toBe(eventTag(id));
  });

  it('orders any two different changes the same way from either side (ties included)', () => {
    fc.assert(
      fc.property(clocks, clocks, (a, b) => {
        fc.pre(a.connection !== b.connection || a.event !== b.event);
        const ab = verdictFor(a, b, undefined);
        const ba = verdictFor(b, a, undefined);
        expect([ab, ba].sort()).toEqual(['newer', 'stale']);
      }),
    );
  });

  it('calls the same event of the same connection a duplicate, whatever its time', () => {
    const clock: Clock = { at: 5, connection: CONNECTIONS[0] ?? '', event: eventTag('e') };
    expect(verdictFor({ ...clock, at: 9 }, clock, undefined)).toBe('duplicate');
  });

  it('lets a higher-ranked connection win over time, and never lets an unlisted one write', () => {
    const [clerk = '', scim = '', hmac = ''] = CONNECTIONS;
    const ranks = [scim, clerk];
    const old = { at: 1, connection: scim, event: eventTag('s') };
    const late = { at: 9, connection: clerk, event: eventTag('c') };
    expect(verdictFor(late, old, ranks)).toBe('not_authoritative');
    expect(verdictFor(old, late, ranks)).toBe('newer');
    expect(verdictFor({ at: 99, connection: hmac, event: 'x' }, undefined, ranks)).toBe(
      'not_authoritative',
    );
    // Same rank: time decides.
    expect(verdictFor({ ...late, at: 10, event: 'y' }, late, ranks)).toBe('newer');
  });

  it('writes only the fields where the change is newer, and moves only their clocks', () => {
    const [clerk = '', hmac = ''] = CONNECTIONS;
    const current = new Map<ClockField, Clock>([
      ['PhoneNumber', { at: 30, connection: hmac, event: eventTag('h3') }],
      ['Nickname', { at: 10, connection: clerk, event: eventTag('c1') }],
    ]);
    const change: Clock = { at: 20, connection: clerk, event: eventTag('c2') };
    const plan = planFieldWrite(
      {
        UserStoreId: 's',
        PhoneNumber: '+6500000000',
        Nickname: 'New',
        CustomizationAttributes: [{ Name: 'tier', Value: 'gold' }],
        UserGroup: ['g'],
      },
      change,
      current,
      () => undefined,
    );
    expect(plan.draft).toEqual({
      UserStoreId: 's',
      Nickname: 'New',
      UserGroup: ['g'],
      CustomizationAttributes: [{ Name: 'tier', Value: 'gold' }],
    });
    expect(plan.written).toEqual(['Nickname', 'custom:tier']);
    expect(plan.skipped).toEqual([{ field: 'PhoneNumber', verdict: 'stale' }]);
    expect(plan.clocks.get('PhoneNumber')).toEqual(current.get('PhoneNumber'));
    expect(plan.clocks.get('Nickname')).toEqual(change);
    expect(plan.clocks.get(customField('tier'))).toEqual(change);
  });

  it('ends in the same fields whatever order the same changes are applied in (model)', () => {
    const change = fc.record({
      clock: clocks,
      fields: fc.subarray([...CLOCKED_FIELDS.slice(0, 4), customField('tier')], { minLength: 1 }),
    });
    fc.assert(
      fc.property(
        fc.array(change, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        (changes, order) => {
          const keys = changes.map(({ clock }) => `${clock.connection}.${clock.event}`);
          fc.pre(new Set(keys).size === keys.length);
          const applyAll = (list: typeof changes) => {
            const state = new Map<ClockField, Clock>();
            for (const { clock, fields: carried } of list) {
              for (const field of carried) {
                if (verdictFor(clock, state.get(field), undefined) === 'newer') {
                  state.set(field, clock);
                }
              }
            }
            return state;
          };
          const shuffled = [...changes].sort(
            (a, b) => (order[changes.indexOf(a) % 8] ?? 0) - (order[changes.indexOf(b) % 8] ?? 0),
          );
          expect(applyAll(shuffled)).toEqual(applyAll(changes));
        },
      ),
    );
  });
});

describe('ciam/field-clocks group memberships', () => {
  const [clerk = '', scim = ''] = CONNECTIONS;
  const at = (second: number, connection = clerk, event = `e${second}`): Clock => ({
    at: Date.UTC(2025, 0, 1, 0, 0, second),
    connection,
    event: eventTag(event),
  });

  it('round-trips members, removals (tombstones) and the floor through the encoding', () => {
    const clocksWithGroups = new Map<ClockField, Clock>([
      ['Email', at(1)],
      [groupField('group-staff'), { ...at(2), member: true }],
      [groupField('group-admins'), { ...at(3), member: false }],
      [MEMBERSHIP_FLOOR, at(0, scim)],
    ]);
    const value = encodeClocks(clocksWithGroups);
    expect(value).toMatch(
      /\|e0,\+[\w-]{6}\d,-[\w-]{6}\d,\^\d$|\|e0,-[\w-]{6}\d,\+[\w-]{6}\d,\^\d$/,
    );
    expect(decodeClocks(value)).toEqual(clocksWithGroups);
  });

  it('adds and removes only the groups a change names, and keeps the others', () => {
    const plan = planMemberships(
      [
        { groupId: 'group-staff', member: true },
        { groupId: 'group-old', member: false },
      ],
      at(5),
      new Map(),
      () => undefined,
      ['group-old', 'group-other'],
    );
    expect(plan.groups?.sort()).toEqual(['group-other', 'group-staff']);
    expect(plan.written).toEqual(['group:group-staff', 'group:group-old']);
    expect(plan.clocks.get(groupField('group-old'))).toEqual({ ...at(5), member: false });
  });

  it('never lets a late, older add undo a newer removal, nor the reverse', () => {
    const removed = planMemberships(
      [{ groupId: 'g', member: false }],
      at(9),
      new Map(),
      () => undefined,
      ['g'],
    );
    const lateAdd = planMemberships(
      [{ groupId: 'g', member: true }],
      at(4),
      removed.clocks,
      () => undefined,
      removed.groups ?? [],
    );
    expect(lateAdd.groups).toBeUndefined();
    expect(lateAdd.skipped).toEqual([{ field: 'group:g', verdict: 'stale' }]);
    const added = planMemberships(
      [{ groupId: 'g', member: true }],
      at(9),
      new Map(),
      () => undefined,
      [],
    );
    const lateRemove = planMemberships(
      [{ groupId: 'g', member: false }],
      at(4),
      added.clocks,
      () => undefined,
      ['g'],
    );
    expect(lateRemove.groups).toBeUndefined();
  });

  it('converges whatever order adds and removals of the same groups arrive in (model)', () => {
    const op = fc.record({
      second: fc.integer({ min: 0, max: 59 }),
      group: fc.constantFrom('a', 'b', 'c'),
      member: fc.boolean(),
      connection: fc.constantFrom(clerk, scim),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(op, { selector: (o) => `${o.second}${o.connection}`, maxLength: 10 }),
        fc.array(fc.nat(), { minLength: 10, maxLength: 10 }),
        (ops, keys) => {
          const run = (list: typeof ops) => {
            let groups: string[] = [];
            let clocksNow = new Map<ClockField, Clock>();
            for (const o of list) {
              const plan = planMemberships(
                [{ groupId: o.group, member: o.member }],
                at(o.second, o.connection, `${o.second}${o.connection}`),
                clocksNow,
                () => undefined,
                groups,
              );
              groups = plan.groups ?? groups;
              clocksNow = plan.clocks;
            }
            return [...groups].sort();
          };
          const shuffled = ops
            .map((o, index) => ({ o, key: keys[index] ?? 0 }))
            .sort((x, y) => x.key - y.key)
            .map(({ o }) => o);
          expect(run(shuffled)).toEqual(run(ops));
        },
      ),
    );
  });

  it('folds membership clocks older than the horizon into one floor, judged as they would be', () => {
    const clocksWithGroups = new Map<ClockField, Clock>([
      ['Email', at(1)],
      [groupField('a'), { ...at(2), member: true }],
      [groupField('b'), { ...at(3), member: false }],
      [groupField('c'), { ...at(30), member: true }],
    ]);
    const compacted = compactMemberships(clocksWithGroups, at(10).at);
    expect(compacted.has(groupField('a'))).toBe(false);
    expect(compacted.has(groupField('b'))).toBe(false);
    expect(compacted.get(groupField('c'))).toEqual({ ...at(30), member: true });
    expect(compacted.get('Email')).toEqual(at(1));
    expect(compacted.get(MEMBERSHIP_FLOOR)).toEqual(at(3));
    // An add dated before the floor (delayed past every retry window) is stale, as before.
    const late = planMemberships(
      [{ groupId: 'b', member: true }],
      at(2, clerk, 'late'),
      compacted,
      () => undefined,
      [],
    );
    expect(late.groups).toBeUndefined();
    // A user in many groups, every one set by a different change long ago, stays short.
    const many = new Map<ClockField, Clock>();
    for (let index = 0; index < 200; index += 1) {
      many.set(groupField(`group-${index}`), {
        ...at(index % 60, clerk, `g${index}`),
        member: true,
      });
    }
    expect(encodeClocks(many).length).toBeGreaterThan(MAX_CLOCKS_CHARS);
    expect(encodeClocks(compactMemberships(many, at(59).at + 1)).length).toBeLessThan(40);
  });

  it('fits a user with many recent memberships into the attribute, folding the oldest first', () => {
    // The worst case next to it: every standard field and four custom ones set by different changes.
    const full = new Map<ClockField, Clock>();
    [...CLOCKED_FIELDS, ...['a', 'b', 'c', 'd'].map(customField)].forEach((field, index) => {
      full.set(field, at(index, index % 2 ? scim : clerk, `f${index}`));
    });
    const recent = new Map(full);
    for (let index = 0; index < 200; index += 1) {
      recent.set(groupField(`group-${index}`), {
        ...at(index % 60, clerk, `recent-${index}`),
        at: Date.UTC(2025, 0, 1) + index * 1000,
        member: true,
      });
    }
    const fitted = compactMemberships(recent, 0);
    const length = encodeClocks(fitted).length;
    expect(length).toBeLessThanOrEqual(MAX_CLOCKS_CHARS);
    // Every field kept; the newest memberships kept; the rest under a floor as new as the newest folded.
    for (const field of full.keys()) expect(fitted.get(field)).toEqual(full.get(field));
    expect(fitted.has(groupField('group-199'))).toBe(true);
    expect(fitted.has(groupField('group-0'))).toBe(false);
    const floor = fitted.get(MEMBERSHIP_FLOOR);
    const keptTimes = [...fitted]
      .filter(([field]) => field.startsWith('@'))
      .map(([, clock]) => clock.at);
    expect(floor?.at).toBeLessThan(Math.min(...keptTimes));
    // A folded group's late removal, older than the floor, cannot undo its add.
    const late = planMemberships(
      [{ groupId: 'group-0', member: false }],
      { at: Date.UTC(2025, 0, 1) + 500, connection: scim, event: eventTag('late') },
      fitted,
      () => undefined,
      ['group-0'],
    );
    expect(late.groups).toBeUndefined();
    // Within the clocks' worst case, the cold-start bound holds with the floor counted.
    expect(maxEncodedLength(CLOCKED_FIELDS.length, 4)).toBeLessThanOrEqual(MAX_CLOCKS_CHARS);
  });
});
