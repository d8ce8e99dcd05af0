import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectionTag, eventTag } from '../../lib/ciam/field-clocks.ts';
import type { CiamUser } from '../../lib/ciam/types.ts';
import {
  CLERK,
  CLOCKS_ATTRIBUTE,
  ciamUser,
  customValue,
  fieldClocksConfig,
  HMAC,
  type SourceChange,
  seedWith,
  sendChange,
} from '../helpers/field-clocks.ts';
import {
  byUser,
  PROPERTY_AUTHORITY,
  propertySettings,
  readClocksAttribute,
  runFieldClocksProperty,
} from '../helpers/field-clocks-property.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

/**
 * The field clocks, end to end: signed deliveries over HTTP to the local stack (local/pipeline.ts),
 * applied to the CIAM emulator, read back with DescribeUserById. Two connections share one user
 * store: a Clerk app sending whole-user snapshots and an hmac feed sending a few fields at a time,
 * each with its own event time.
 */

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);
const at = (seconds: number) => T0 + seconds * 1000;

const ALICE = { externalId: 'ext-alice', userId: 'demo-user-1' } as const;
/** A user an earlier version of the adapter wrote: one per-connection mark, no field clocks. */
const DAVE = { externalId: 'ext-dave', userId: 'demo-user-4' } as const;
const DAVE_MARK = { at: at(100), eventId: 'msg_legacy_dave' };

const clerk = (eventId: string, seconds: number, values: SourceChange['values']): SourceChange => ({
  connection: CLERK,
  externalId: ALICE.externalId,
  eventId,
  at: at(seconds),
  values,
});
const hmac = (eventId: string, seconds: number, values: SourceChange['values']): SourceChange => ({
  connection: HMAC,
  externalId: ALICE.externalId,
  eventId,
  at: at(seconds),
  values,
});

/** What a field's clock should hold: the change's time, its connection's tag, its event's tag. */
const clockOf = (connection: string, eventId: string, seconds: number) => ({
  at: at(seconds),
  connection: connectionTag(connection),
  event: eventTag(eventId),
});
const clocksOf = (user: CiamUser) => readClocksAttribute(customValue(user, CLOCKS_ATTRIBUTE) ?? '');

const withoutPhone = ({ PhoneNumber: _phone, ...rest }: SourceChange['values']) => rest;

const snapshot = (tag: string, phone: string): SourceChange['values'] => ({
  UserName: `alice-${tag}`,
  Email: `alice.${tag}@example.com`,
  PhoneNumber: phone,
  Nickname: `Alice ${tag}`,
  'custom:tier': tag,
});

describe('field clocks over HTTP: a Clerk app and an hmac feed on one user store', () => {
  let stack: Stack;
  const send = (change: SourceChange) => sendChange(stack.server.url, change);
  const alice = () => ciamUser(stack.ciam, ALICE.userId);

  beforeAll(async () => {
    stack = await startStack({
      config: fieldClocksConfig(),
      ciamRatePerSecond: 10_000,
      seed: seedWith([
        {
          UserId: DAVE.userId,
          UserName: 'dave',
          Email: 'dave@example.com',
          Nickname: 'Dave Old',
          IndexedAttribute1: DAVE.externalId,
          Status: 'NORMAL',
          CustomAttributes: [
            {
              Name: 'adapter_watermark_clerk',
              Value: `v1;${DAVE_MARK.at};${DAVE_MARK.eventId}`,
              Type: 'STRING',
            },
          ],
          CreatedDate: 1704067200000,
          LastModifiedDate: 1704067200000,
        },
      ]),
    });
  });
  afterAll(async () => stack?.close());
  beforeEach(async () => {
    await stack.emulator.idle();
    stack.emulator.reset();
  });

  it('a late partial change is not lost: an older phone lands beside a newer nickname', async () => {
    const b = await send(hmac('hr-b', 2, { Nickname: 'Ali B' }));
    const a = await send(hmac('hr-a', 1, { PhoneNumber: '+6591110001' }));

    expect(b).toMatchObject({ status: 200, body: { status: 'applied', fields: ['Nickname'] } });
    expect(a).toMatchObject({ status: 200, body: { status: 'applied', fields: ['PhoneNumber'] } });
    expect(a.body).not.toHaveProperty('skipped');
    const user = await alice();
    expect(user).toMatchObject({
      PhoneNumber: '+6591110001',
      Nickname: 'Ali B',
      // Untouched by either change: the seed's.
      UserName: 'alice',
      Email: 'alice@example.com',
    });
    // Each field names the change that set it; fields no change carried have no clock.
    expect(clocksOf(user)).toEqual(
      new Map([
        ['PhoneNumber', clockOf(HMAC, 'hr-a', 1)],
        ['Nickname', clockOf(HMAC, 'hr-b', 2)],
      ]),
    );
  });

  it('two connections do not undo each other: a late Clerk snapshot keeps the newer hmac phone', async () => {
    const phone = await send(hmac('hr-phone', 3, { PhoneNumber: '+6591110003' }));
    const late = await send(clerk('msg_late', 1, snapshot('t1', '+6591110009')));

    expect(phone.body).toMatchObject({ status: 'applied', fields: ['PhoneNumber'] });
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ status: 'partial', eventId: 'msg_late' });
    expect(new Set(late.body.fields as string[])).toEqual(
      new Set(['UserName', 'Email', 'Nickname', 'custom:tier']),
    );
    expect(late.body.skipped).toEqual([{ field: 'PhoneNumber', verdict: 'stale' }]);
    const user = await alice();
    expect(user).toMatchObject({
      PhoneNumber: '+6591110003',
      UserName: 'alice-t1',
      Email: 'alice.t1@example.com',
      Nickname: 'Alice t1',
    });
    expect(customValue(user, 'tier')).toBe('t1');
    expect(clocksOf(user)).toEqual(
      new Map([
        ['PhoneNumber', clockOf(HMAC, 'hr-phone', 3)],
        ['UserName', clockOf(CLERK, 'msg_late', 1)],
        ['Email', clockOf(CLERK, 'msg_late', 1)],
        ['Nickname', clockOf(CLERK, 'msg_late', 1)],
        ['custom:tier', clockOf(CLERK, 'msg_late', 1)],
      ]),
    );

    // And the reverse: once every field the snapshot carries holds a newer change, it is stale.
    const older = await send(clerk('msg_older', 0, snapshot('t0', '+6591110008')));
    expect(older.body).toMatchObject({ status: 'ignored', reason: 'stale' });
    expect(await alice()).toEqual(user);
  });

  it('shuffled delivery converges: five changes in eight orders end in one CIAM user', async () => {
    const changes = [
      clerk('msg_1', 1, snapshot('s1', '+6591110011')),
      hmac('hr-2', 2, { PhoneNumber: '+6591110022', Nickname: 'Ali 2' }),
      // Same time as hr-2, same connection, another event: the event tags decide the phone.
      hmac('hr-2b', 2, { PhoneNumber: '+6591110023' }),
      // A snapshot of a user with no phone at Clerk: it carries no PhoneNumber.
      clerk('msg_3', 3, withoutPhone(snapshot('s3', '+6591110033'))),
      // Same time as msg_3 from the other connection: the connection tags decide the email.
      hmac('hr-3', 3, { Email: 'alice.hr3@example.com' }),
    ];
    const orders = [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
      [2, 4, 0, 3, 1],
      [3, 0, 4, 1, 2],
      [1, 3, 0, 2, 4],
      [4, 2, 3, 0, 1],
      [0, 4, 1, 3, 2],
      [3, 1, 4, 2, 0],
    ];
    const finals = [];
    for (const order of orders) {
      await stack.emulator.idle();
      stack.emulator.reset();
      for (const index of order) {
        const change = changes[index];
        if (change === undefined) throw new Error(`no change ${index}`);
        const answer = await send(change);
        expect(answer.status).toBe(200);
      }
      finals.push(await alice());
    }

    const [inOrder, ...others] = finals;
    // The clocks attribute is part of the state compared: the same clocks in every order.
    expect(inOrder?.CustomAttributes?.map((item) => item.Name)).toEqual([CLOCKS_ATTRIBUTE, 'tier']);
    for (const other of others) expect(other).toEqual(inOrder);
    // msg_3 is newest for the fields only it carries at t3. The ties go the documented way in
    // every order: at t3 on the email, the higher connection tag; at t2 on the phone, the higher
    // event tag.
    const clerkWinsTie = connectionTag(CLERK) > connectionTag(HMAC);
    const hr2bWinsTie = eventTag('hr-2b') > eventTag('hr-2');
    expect(inOrder).toMatchObject({
      UserName: 'alice-s3',
      Nickname: 'Alice s3',
      Email: clerkWinsTie ? 'alice.s3@example.com' : 'alice.hr3@example.com',
      PhoneNumber: hr2bWinsTie ? '+6591110023' : '+6591110022',
    });
    expect(customValue(inOrder ?? {}, 'tier')).toBe('s3');
  });

  it('upgrades in place: an earlier-version mark still rejects an older change, a newer one writes the clocks', async () => {
    const dave = () => ciamUser(stack.ciam, DAVE.userId);
    const before = await dave();
    const values = (tag: string): SourceChange['values'] => ({
      UserName: `dave-${tag}`,
      Email: `dave.${tag}@example.com`,
      Nickname: `Dave ${tag}`,
    });
    const change = (eventId: string, time: number, tag: string): SourceChange => ({
      connection: CLERK,
      externalId: DAVE.externalId,
      eventId,
      at: time,
      values: values(tag),
    });

    const older = await send(change('msg_dave_old', DAVE_MARK.at - 1000, 'old'));
    const again = await send(change(DAVE_MARK.eventId, DAVE_MARK.at, 'again'));

    expect(older.body).toMatchObject({ status: 'ignored', reason: 'stale' });
    expect(again.body).toMatchObject({ status: 'ignored', reason: 'duplicate' });
    expect(await dave()).toEqual(before);
    expect(customValue(before, CLOCKS_ATTRIBUTE)).toBeUndefined();

    const newer = await send(change('msg_dave_new', DAVE_MARK.at + 1000, 'new'));

    expect(newer.body).toMatchObject({ status: 'applied', eventId: 'msg_dave_new' });
    const after = await dave();
    expect(after).toMatchObject({
      UserName: 'dave-new',
      Email: 'dave.new@example.com',
      Nickname: 'Dave new',
    });
    expect(customValue(after, CLOCKS_ATTRIBUTE)).toMatch(/^2\|/);
    // The old mark is left where it was (the upgrade only ever adds the clocks).
    expect(customValue(after, 'adapter_watermark_clerk')).toBe(
      `v1;${DAVE_MARK.at};${DAVE_MARK.eventId}`,
    );
  });
});

describe('field authority over HTTP: the hmac feed owns the phone', () => {
  let stack: Stack;
  const send = (change: SourceChange) => sendChange(stack.server.url, change);

  beforeAll(async () => {
    stack = await startStack({
      config: fieldClocksConfig({ authority: { PhoneNumber: [HMAC, CLERK] } }),
    });
  });
  afterAll(async () => stack?.close());

  it('a newer Clerk phone after an hmac phone is not_authoritative, and the phone stays', async () => {
    const first = await send(hmac('hr-owner', 1, { PhoneNumber: '+6591110100' }));
    const newer = await send(clerk('msg_newer', 5, { PhoneNumber: '+6591110500' }));
    const mixed = await send(clerk('msg_mixed', 6, snapshot('s6', '+6591110600')));

    expect(first.body).toMatchObject({ status: 'applied', fields: ['PhoneNumber'] });
    expect(newer.body).toMatchObject({
      status: 'ignored',
      reason: 'not_authoritative',
      skipped: [{ field: 'PhoneNumber', verdict: 'not_authoritative' }],
    });
    // A snapshot still sets the fields nobody ranks.
    expect(mixed.body).toMatchObject({
      status: 'partial',
      skipped: [{ field: 'PhoneNumber', verdict: 'not_authoritative' }],
    });
    expect(await ciamUser(stack.ciam, ALICE.userId)).toMatchObject({
      PhoneNumber: '+6591110100',
      UserName: 'alice-s6',
    });
  });
});

describe('property: every delivery order of any changes ends in the oracle’s users (sync)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      config: fieldClocksConfig({ authority: PROPERTY_AUTHORITY }),
      ciamRatePerSecond: 10_000,
    });
  });
  afterAll(async () => stack?.close());

  it('snapshots, partial changes and redeliveries over two connections, shuffled', async () => {
    await runFieldClocksProperty({
      stack,
      label: 'sync',
      settings: propertySettings({ numRuns: 4, orders: 50 }),
      // Each user's deliveries in the order given, the users side by side: the order across
      // users cannot matter, as no change touches two users.
      deliverOrder: async (changes, order) => {
        await Promise.all(
          byUser(changes, order).map(async (sequence) => {
            for (const change of sequence) {
              const answer = await sendChange(stack.server.url, change);
              expect(answer.status).toBe(200);
              expect(['applied', 'partial', 'ignored']).toContain(answer.body.status);
            }
          }),
        );
      },
    });
  }, 120_000);
});
