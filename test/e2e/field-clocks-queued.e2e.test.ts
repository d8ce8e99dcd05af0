import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectionTag, eventTag } from '../../lib/ciam/field-clocks.ts';
import {
  CLERK,
  CLOCKS_ATTRIBUTE,
  ciamUser,
  customValue,
  fieldClocksConfig,
  HMAC,
  type SourceChange,
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
 * The field clocks with both connections queued: the webhook function stores each change in the
 * local SQS FIFO queue, and the local poller feeds them to the queue function, two batches at a
 * time, as the event source mapping would. One message per batch: the two consumers then take two
 * message groups at once, as Lambda's pollers do when many users' changes are queued, so only the
 * message groups keep one user's changes from being applied side by side.
 */

/** SQS FIFO drops a message whose deduplication id it saw in the last five minutes. */
const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

const T0 = Date.UTC(2025, 0, 1, 10, 0, 0);

describe('queued field clocks: two connections, one user store, two consumers', () => {
  let stack: Stack;
  // The same events are sent again from the seed, order after order; moving the queues' clock
  // past the deduplication window in between makes them new messages, as a day later.
  let queueClockOffset = 0;

  beforeAll(async () => {
    stack = await startStack({
      config: fieldClocksConfig({ delivery: 'queued', authority: PROPERTY_AUTHORITY }),
      ciamRatePerSecond: 10_000,
      // Polling every 10 ms rather than 50 ends each order's drain sooner.
      queue: { now: () => Date.now() + queueClockOffset, batchSize: 1, pollIntervalMs: 10 },
    });
  });
  afterAll(async () => stack?.close());
  beforeEach(async () => {
    await stack.queue.poller.drain();
    await stack.emulator.idle();
    stack.emulator.reset();
    queueClockOffset += DEDUPLICATION_WINDOW_MS + 1000;
  });

  const settle = async () => {
    await stack.queue.poller.drain();
    expect(stack.queue.pollerErrors).toEqual([]);
    expect(stack.queue.deadLetterQueue.stats().total).toBe(0);
    await stack.emulator.idle();
  };

  it('one user’s changes from both connections, in both consumers at once, keep each other’s fields', async () => {
    // Slow CIAM calls keep the first change in flight while the poller hands the second to the
    // other consumer: unless both are in one message group, both read the user before either
    // writes it. Whatever the timing, applied one after the other they must end as asserted.
    stack.emulator.faults.configure({
      rates: { latency: 1 },
      actions: ['DescribeUserById', 'UpdateUser'],
      latencyMs: 100,
    });
    const snapshot: SourceChange = {
      connection: CLERK,
      externalId: 'ext-alice',
      eventId: 'msg-snapshot',
      at: T0 + 1000,
      values: {
        UserName: 'alice-s',
        Email: 'alice.s@example.com',
        Nickname: 'Alice S',
        'custom:tier': 'gold',
      },
    };
    const nickname: SourceChange = {
      connection: HMAC,
      externalId: 'ext-alice',
      eventId: 'hr-nickname',
      at: T0 + 2000,
      values: { Nickname: 'Ali H' },
    };

    for (const change of [snapshot, nickname]) {
      expect(await sendChange(stack.server.url, change)).toMatchObject({ status: 202 });
    }
    await settle();

    const alice = await ciamUser(stack.ciam, 'demo-user-1');
    expect(alice).toMatchObject({
      UserName: 'alice-s',
      Email: 'alice.s@example.com',
      Nickname: 'Ali H',
    });
    expect(customValue(alice, 'tier')).toBe('gold');
    const clockOf = (change: SourceChange) => ({
      at: change.at,
      connection: connectionTag(change.connection),
      event: eventTag(change.eventId),
    });
    expect(readClocksAttribute(customValue(alice, CLOCKS_ATTRIBUTE) ?? '')).toEqual(
      new Map([
        ['UserName', clockOf(snapshot)],
        ['Email', clockOf(snapshot)],
        ['Nickname', clockOf(nickname)],
        ['custom:tier', clockOf(snapshot)],
      ]),
    );
  });

  it('property: every delivery order of any changes ends in the oracle’s users', async () => {
    await runFieldClocksProperty({
      stack,
      label: 'queued',
      settings: propertySettings({ numRuns: 3, orders: 50 }),
      beforeOrder: () => stack.queue.poller.drain(),
      deliverOrder: async (changes, order) => {
        queueClockOffset += DEDUPLICATION_WINDOW_MS + 1000;
        await Promise.all(
          byUser(changes, order).map(async (sequence) => {
            for (const change of sequence) {
              const answer = await sendChange(stack.server.url, change);
              expect(answer).toMatchObject({ status: 202, body: { status: 'queued' } });
            }
          }),
        );
        await settle();
      },
    });
  }, 120_000);
});
