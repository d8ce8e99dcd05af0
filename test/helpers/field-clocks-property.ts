import fc from 'fast-check';
import { expect } from 'vitest';
import { connectionTag, eventTag } from '../../lib/ciam/field-clocks.ts';
import type { CiamUser } from '../../lib/ciam/types.ts';
import {
  type Authority,
  CLERK,
  CLOCKS_ATTRIBUTE,
  type ConnectionId,
  ciamUser,
  type ExternalId,
  type Field,
  HMAC,
  HMAC_FIELDS,
  SEED_USERS,
  type SourceChange,
  STORE,
  seedUser,
} from './field-clocks.ts';
import type { Stack } from './stack.ts';

/**
 * The field-clocks property: any set of changes from two connections, delivered in any order,
 * redeliveries included, ends in the users an oracle computes without the adapter's code.
 */

/**
 * The authority the property runs under: the hmac feed outranks Clerk on the phone, only Clerk
 * sets the email, and the other fields are open (newest wins).
 */
export const PROPERTY_AUTHORITY: Authority = {
  PhoneNumber: [HMAC, CLERK],
  Email: [CLERK],
};

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);

export interface Scenario {
  /** Distinct events, each sent at least once. */
  changes: SourceChange[];
  /** Orders of delivery: indexes into `changes`, a redelivered change listed more than once. */
  orders: number[][];
}

const USERS = Object.keys(SEED_USERS) as ExternalId[];

/** Values unique to (user, event): CIAM refuses a user name, email or phone another user holds. */
const valueFor = (field: Field, user: number, event: number): string => {
  const name = `${USERS[user]?.slice(4)}-${event}`;
  switch (field) {
    case 'UserName':
      return name;
    case 'Email':
      return `${name}@example.com`;
    case 'PhoneNumber':
      return `+659${user}${String(event).padStart(6, '0')}`;
    case 'Nickname':
      return `Nick ${name}`;
    case 'custom:tier':
      return `tier-${event}`;
  }
};

const eventArb = (users: number) =>
  fc.record({
    connection: fc.constantFrom<ConnectionId>(CLERK, HMAC),
    user: fc.nat({ max: users - 1 }),
    // Three distinct times for up to five changes: about half the sets hold a tie (two changes to
    // one user at one time, setting a field neither outranks the other on).
    second: fc.nat({ max: 2 }),
    // Part of the event id: the event tags, and so which of two tied events wins, vary by set.
    nonce: fc.nat({ max: 0xffff }),
    hmacFields: fc.subarray([...HMAC_FIELDS], { minLength: 1 }),
    // A Clerk user may have no phone or no email: its snapshot then does not carry the field.
    clerkOmits: fc.subarray(['PhoneNumber', 'Email'] as Field[], { maxLength: 1 }),
    redeliveries: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) },
    ),
  });

/** `events` distinct changes to 2–3 users, and `orders` shuffles of their deliveries. */
export const scenarioArb = (settings: {
  minEvents: number;
  maxEvents: number;
  orders: number;
}): fc.Arbitrary<Scenario> =>
  fc
    .integer({ min: 2, max: USERS.length })
    .chain((users) =>
      fc.array(eventArb(users), { minLength: settings.minEvents, maxLength: settings.maxEvents }),
    )
    .filter((events) => new Set(events.map((event) => event.user)).size >= 2)
    .chain((events) => {
      const changes = events.map((event, index): SourceChange => {
        const fields =
          event.connection === CLERK
            ? (['UserName', 'Email', 'PhoneNumber', 'Nickname', 'custom:tier'] as Field[]).filter(
                (field) => !event.clerkOmits.includes(field),
              )
            : event.hmacFields;
        return {
          connection: event.connection,
          externalId: USERS[event.user] ?? 'ext-alice',
          eventId: `${event.connection === CLERK ? 'msg' : 'hr'}-${index}-${event.nonce}`,
          at: T0 + event.second * 1000,
          values: Object.fromEntries(
            fields.map((field) => [field, valueFor(field, event.user, index)]),
          ),
        };
      });
      const deliveries = events.flatMap((event, index) =>
        Array.from({ length: 1 + event.redeliveries }, () => index),
      );
      const shuffle = fc.shuffledSubarray(deliveries, {
        minLength: deliveries.length,
        maxLength: deliveries.length,
      });
      return fc.record({
        changes: fc.constant(changes),
        orders: fc.array(shuffle, { minLength: settings.orders, maxLength: settings.orders }),
      });
    });

/** The change that wins a field, and the value it sets. */
interface Winner {
  change: SourceChange;
  value: string;
}

/**
 * The oracle: each distinct event once (a redelivery is the same event), in event-time order,
 * ties by connection tag then event tag as docs/delivery.md says. Per field the newest change
 * wins, except that where the store ranks connections for a field, only ranked connections set
 * it and a lower-ranked one never replaces a higher-ranked one's value.
 */
export const oracle = (
  changes: readonly SourceChange[],
  authority: Authority,
): Map<string, Map<Field, Winner>> => {
  const key = (change: SourceChange) => [
    change.at,
    connectionTag(change.connection),
    eventTag(change.eventId),
  ];
  const ordered = [...changes].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i += 1) {
      const [p, q] = [x[i] ?? 0, y[i] ?? 0];
      if (p !== q) return p < q ? -1 : 1;
    }
    return 0;
  });
  const users = new Map<string, Map<Field, Winner>>();
  for (const change of ordered) {
    const fields = users.get(change.externalId) ?? new Map<Field, Winner>();
    users.set(change.externalId, fields);
    for (const [field, value] of Object.entries(change.values) as [Field, string][]) {
      const ranks = authority[field];
      const held = fields.get(field);
      if (ranks !== undefined) {
        const mine = ranks.indexOf(change.connection);
        if (mine < 0) continue;
        if (held !== undefined && ranks.indexOf(held.change.connection) < mine) continue;
      }
      fields.set(field, { change, value });
    }
  }
  return users;
};

/**
 * The clocks attribute as docs and field-clocks.ts describe it, read here without the adapter's
 * decoder: `2|<at base 36>.<connection tag>.<event tag>,…|<field code><clock index>,…`.
 */
const FIELD_CODES: Record<string, Field> = {
  u: 'UserName',
  e: 'Email',
  p: 'PhoneNumber',
  n: 'Nickname',
};

export interface ReadClock {
  at: number;
  connection: string;
  event: string;
}

export const readClocksAttribute = (value: string): Map<Field, ReadClock> => {
  const [version, clockList = '', fieldList = ''] = value.split('|');
  if (version !== '2') throw new Error(`clocks of version ${version}`);
  const clocks = clockList.split(',').map((text) => {
    const [at = '', connection = '', event = ''] = text.split('.');
    return { at: Number.parseInt(at, 36), connection, event };
  });
  const fields = new Map<Field, ReadClock>();
  for (const text of fieldList.split(',')) {
    // The one custom attribute the connections write is `tier`: its code is `~<tag>`.
    const custom = text.startsWith('~');
    const code = custom ? text.slice(0, 7) : text.slice(0, 1);
    const field = custom ? 'custom:tier' : FIELD_CODES[code];
    const clock = clocks[Number.parseInt(text.slice(code.length), 36)];
    if (field === undefined || clock === undefined) throw new Error(`clock entry ${text}`);
    fields.set(field, clock);
  }
  return fields;
};

/**
 * The user the oracle expects: the seed's, with each won field's value, and the clocks naming
 * the winners. Compared with ciamUser(): no LastModifiedDate, custom attributes by name.
 */
export const expectedUser = (
  externalId: ExternalId,
  winners: ReadonlyMap<Field, Winner> | undefined,
): { user: CiamUser; clocks: Map<Field, ReadClock> } => {
  const { LastModifiedDate: _modified, ...seed } = seedUser(SEED_USERS[externalId]);
  // DescribeUserById names the store the user is in.
  const user: CiamUser = { ...seed, UserStoreId: STORE };
  const clocks = new Map<Field, ReadClock>();
  const custom: { Name: string; Value: string; Type: string }[] = [];
  for (const [field, { change, value }] of winners ?? []) {
    if (field === 'custom:tier') custom.push({ Name: 'tier', Value: value, Type: 'STRING' });
    else user[field] = value;
    clocks.set(field, {
      at: change.at,
      connection: connectionTag(change.connection),
      event: eventTag(change.eventId),
    });
  }
  if (clocks.size > 0) {
    // Its value is checked through readClocksAttribute.
    custom.push({ Name: CLOCKS_ATTRIBUTE, Value: '<clocks>', Type: 'STRING' });
  }
  if (custom.length > 0) user.CustomAttributes = custom.sort((a, b) => (a.Name < b.Name ? -1 : 1));
  return { user, clocks };
};

/** The user with its clocks value replaced by a placeholder, and the clocks read apart. */
export const splitClocks = (user: CiamUser): { user: CiamUser; clocks: Map<Field, ReadClock> } => {
  const value = user.CustomAttributes?.find((item) => item.Name === CLOCKS_ATTRIBUTE)?.Value;
  return {
    user: {
      ...user,
      ...(user.CustomAttributes === undefined
        ? {}
        : {
            CustomAttributes: user.CustomAttributes.map((item) =>
              item.Name === CLOCKS_ATTRIBUTE ? { ...item, Value: '<clocks>' } : item,
            ),
          }),
    },
    clocks: value === undefined ? new Map() : readClocksAttribute(value),
  };
};

/** Deliveries of one order grouped by user, each user's in the order given. */
export const byUser = (
  changes: readonly SourceChange[],
  order: readonly number[],
): SourceChange[][] => {
  const groups = new Map<string, SourceChange[]>();
  for (const index of order) {
    const change = changes[index];
    if (change === undefined) throw new Error(`no change ${index}`);
    groups.set(change.externalId, [...(groups.get(change.externalId) ?? []), change]);
  }
  return [...groups.values()];
};

export interface PropertySettings {
  seed: number;
  numRuns: number;
  orders: number;
  path?: string;
}

const intFromEnv = (name: string, fallback: number): number => {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer`);
  return value;
};

/**
 * FIELD_CLOCKS_SEED (and FIELD_CLOCKS_PATH, from a failure's report) replay a run;
 * FIELD_CLOCKS_RUNS and FIELD_CLOCKS_ORDERS go deeper than CI's default.
 */
export const propertySettings = (defaults: { numRuns: number; orders: number }) => {
  const settings: PropertySettings = {
    seed: intFromEnv('FIELD_CLOCKS_SEED', Date.now() % 2_147_483_647),
    numRuns: intFromEnv('FIELD_CLOCKS_RUNS', defaults.numRuns),
    orders: intFromEnv('FIELD_CLOCKS_ORDERS', defaults.orders),
  };
  const path = process.env.FIELD_CLOCKS_PATH;
  if (path !== undefined && path !== '') settings.path = path;
  return settings;
};

export interface PropertyRun {
  stack: Stack;
  /** `sync` or `queued`, for the log lines. */
  label: string;
  settings: PropertySettings;
  /** Before the emulator is reset for an order: let whatever an earlier one left finish. */
  beforeOrder?: () => Promise<void>;
  /** Delivers one order, from the emulator's seed, and returns once CIAM holds the outcome. */
  deliverOrder: (changes: readonly SourceChange[], order: readonly number[]) => Promise<void>;
}

/**
 * Runs the property: for each generated set of changes, every order of it from the seed ends in
 * the oracle's users, and in the same users byte for byte, clocks attribute included. The first
 * failing order is logged before fast-check shrinks, which can take a while at 50 orders a set.
 */
export const runFieldClocksProperty = async (run: PropertyRun): Promise<void> => {
  const { stack, label, settings } = run;
  console.info(
    `field clocks property (${label}): FIELD_CLOCKS_SEED=${settings.seed} FIELD_CLOCKS_RUNS=${settings.numRuns} FIELD_CLOCKS_ORDERS=${settings.orders}`,
  );
  const started = Date.now();
  let orders = 0;
  let reported = false;
  await fc.assert(
    fc.asyncProperty(
      scenarioArb({ minEvents: 3, maxEvents: 5, orders: settings.orders }),
      async (scenario) => {
        const winners = oracle(scenario.changes, PROPERTY_AUTHORITY);
        let first: CiamUser[] | undefined;
        for (const order of scenario.orders) {
          await run.beforeOrder?.();
          await stack.emulator.idle();
          stack.emulator.reset();
          try {
            await run.deliverOrder(scenario.changes, order);
            orders += 1;
            const users = await Promise.all(
              USERS.map((externalId) => ciamUser(stack.ciam, SEED_USERS[externalId])),
            );
            USERS.forEach((externalId, index) => {
              const expected = expectedUser(externalId, winners.get(externalId));
              const actual = splitClocks(users[index] ?? {});
              expect(actual.user, `${externalId} against the oracle`).toEqual(expected.user);
              expect(actual.clocks, `${externalId}'s clocks`).toEqual(expected.clocks);
            });
            if (first === undefined) first = users;
            else expect(users, 'the users of the first order').toEqual(first);
          } catch (error) {
            if (!reported) {
              reported = true;
              console.error(
                `field clocks property (${label}): first failure, order ${JSON.stringify(order)} of ${JSON.stringify(scenario.changes)}`,
              );
            }
            throw error;
          }
        }
      },
    ),
    {
      seed: settings.seed,
      numRuns: settings.numRuns,
      ...(settings.path === undefined ? {} : { path: settings.path }),
      // Shrinking replays whole sets of orders; past this, fast-check reports the smallest
      // failure found so far. A run that never failed but was cut short fails too: fewer orders
      // than asked for would pass unnoticed otherwise.
      interruptAfterTimeLimit: 60_000,
      markInterruptAsFailure: true,
    },
  );
  console.info(
    `field clocks property (${label}): ${orders} orders delivered in ${Date.now() - started} ms`,
  );
};
