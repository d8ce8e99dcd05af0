import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../../lib/queue/types.ts';
import {
  createLocalFifoQueue,
  type LocalFifoQueue,
  type LocalFifoQueueOptions,
  md5OfMessageAttributes,
} from '../../local/fifo-queue.ts';

const START = 1_700_000_000_000;
const VISIBILITY_S = 30;
const WINDOW_MS = 5 * 60_000;
const ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:changes.fifo';

let clock: number;
const now = () => clock;

const makeQueue = (options: Partial<LocalFifoQueueOptions> = {}) =>
  createLocalFifoQueue({
    name: 'changes.fifo',
    now,
    visibilityTimeoutSeconds: VISIBILITY_S,
    ...options,
  });

const msg = (
  groupId: string,
  id: string,
  extra: Partial<OutgoingMessage> = {},
): OutgoingMessage => ({
  body: `${groupId}:${id}`,
  groupId,
  deduplicationId: `${groupId}-${id}`,
  ...extra,
});

const bodies = (messages: readonly { body: string }[]) => messages.map((m) => m.body);

const codeOf = async (work: () => unknown) => {
  try {
    await work();
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return undefined;
};

describe('local/fifo-queue', () => {
  beforeEach(() => {
    clock = START;
  });

  describe('send', () => {
    it('numbers messages with growing 20-digit sequence numbers', async () => {
      const queue = makeQueue();
      const first = await queue.send(msg('g1', 'a'));
      const second = await queue.send(msg('g2', 'b'));
      expect(first.sequenceNumber).toMatch(/^\d{20}$/);
      expect(second.sequenceNumber).toMatch(/^\d{20}$/);
      expect(BigInt(second.sequenceNumber ?? 0) > BigInt(first.sequenceNumber ?? 0)).toBe(true);
      expect(first.messageId).not.toBe(second.messageId);
    });

    it('returns the original message id and enqueues nothing for a duplicate within 5 minutes', async () => {
      const queue = makeQueue();
      const original = await queue.send(msg('g1', 'evt-1'));
      clock += WINDOW_MS - 1;
      const duplicate = await queue.send(
        msg('g2', 'evt-1', { body: 'other body', deduplicationId: 'g1-evt-1' }),
      );
      expect(duplicate).toEqual(original);
      expect(queue.stats().total).toBe(1);
    });

    it('still drops a duplicate after the original was deleted, while the window lasts', async () => {
      const queue = makeQueue();
      const original = await queue.send(msg('g1', 'evt-1'));
      const [received] = queue.receive();
      queue.delete(received?.receiptHandle ?? '');
      clock += 60_000;
      await expect(queue.send(msg('g1', 'evt-1'))).resolves.toEqual(original);
      expect(queue.stats().total).toBe(0);
    });

    it('accepts the same deduplication id as a new message once 5 minutes have passed', async () => {
      const queue = makeQueue();
      const original = await queue.send(msg('g1', 'evt-1'));
      clock += WINDOW_MS;
      const again = await queue.send(msg('g1', 'evt-1'));
      expect(again.messageId).not.toBe(original.messageId);
      expect(queue.stats().total).toBe(2);
      // The window restarts from the accepted resend.
      clock += WINDOW_MS - 1;
      await expect(queue.send(msg('g1', 'evt-1'))).resolves.toEqual(again);
    });

    it.each([
      ['an empty body', msg('g', 'd', { body: '' })],
      ['a group id with a space', msg('user 1', 'd')],
      ['a deduplication id over 128 characters', msg('g', 'x'.repeat(129))],
      ['an empty attribute value', msg('g', 'd', { attributes: { source: '' } })],
      ['an attribute name starting with AWS.', msg('g', 'd', { attributes: { 'AWS.x': 'v' } })],
    ])('rejects %s with InvalidParameterValue', async (_, message) => {
      expect(await codeOf(() => makeQueue().send(message))).toBe('InvalidParameterValue');
    });

    it('rejects when the caller signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('deadline'));
      await expect(makeQueue().send(msg('g', 'd'), { signal: controller.signal })).rejects.toThrow(
        'deadline',
      );
    });
  });

  describe('sendBatch', () => {
    it('stores a batch in order, deduplicating as send does', async () => {
      const queue = makeQueue();
      const earlier = await queue.send(msg('g1', 'a'));
      const sent = await queue.sendBatch([msg('g1', 'a'), msg('g1', 'b'), msg('g2', 'c')]);
      expect(sent[0]?.messageId).toBe(earlier.messageId);
      expect(sent).toHaveLength(3);
      expect(bodies(queue.receive())).toEqual(['g1:a', 'g1:b', 'g2:c']);
    });

    it('refuses more than 10 messages, or an invalid one, storing none', async () => {
      const queue = makeQueue();
      const eleven = Array.from({ length: 11 }, (_, n) => msg('g1', `m${n}`));
      expect(await codeOf(() => queue.sendBatch(eleven))).toBe('InvalidParameterValue');
      expect(
        await codeOf(() => queue.sendBatch([msg('g1', 'ok'), msg('g1', 'bad', { body: '' })])),
      ).toBe('InvalidParameterValue');
      expect(queue.stats().total).toBe(0);
    });
  });

  describe('receive', () => {
    it('returns the messages of a group in send order, filling the batch group by group', async () => {
      const queue = makeQueue();
      for (const [group, id] of [
        ['a', '1'],
        ['b', '1'],
        ['a', '2'],
        ['b', '2'],
        ['a', '3'],
      ] as const) {
        await queue.send(msg(group, `${group}${id}`));
      }
      expect(bodies(queue.receive({ max: 10 }))).toEqual(['a:a1', 'a:a2', 'a:a3', 'b:b1', 'b:b2']);
    });

    it('returns at most max messages and leaves the rest for the next receive', async () => {
      const queue = makeQueue();
      for (const id of ['1', '2', '3']) await queue.send(msg('a', id));
      await queue.send(msg('b', 'b1'));
      expect(bodies(queue.receive({ max: 2 }))).toEqual(['a:1', 'a:2']);
      // Group a is locked by its in-flight messages; b is free.
      expect(bodies(queue.receive({ max: 2 }))).toEqual(['b:b1']);
    });

    it('returns nothing of a group while one of its messages is in flight', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      expect(bodies(queue.receive({ max: 1 }))).toEqual(['a:1']);
      await queue.send(msg('a', '2'));
      await queue.send(msg('b', '1'));
      expect(bodies(queue.receive())).toEqual(['b:1']);
      expect(queue.receive()).toEqual([]);
    });

    it('keeps a group locked until every in-flight message of it is deleted or visible again', async () => {
      const queue = makeQueue();
      for (const id of ['1', '2', '3']) await queue.send(msg('a', id));
      const [first, second, third] = queue.receive();
      // A consumer that wrongly acknowledges out of order: 2 done, 1 and 3 not.
      queue.delete(second?.receiptHandle ?? '');
      await queue.changeVisibility(first?.receiptHandle ?? '', 0);
      expect(queue.receive()).toEqual([]);
      await queue.changeVisibility(third?.receiptHandle ?? '', 0);
      expect(bodies(queue.receive())).toEqual(['a:1', 'a:3']);
    });

    it('redelivers after the visibility timeout with the receive count raised and a new handle', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      clock += 5;
      const [first] = queue.receive();
      expect(first).toMatchObject({ receiveCount: 1, firstReceiveTimestamp: START + 5 });
      clock += VISIBILITY_S * 1000 - 1;
      expect(queue.receive()).toEqual([]);
      clock += 1;
      const [second] = queue.receive();
      expect(second).toMatchObject({
        messageId: first?.messageId,
        receiveCount: 2,
        firstReceiveTimestamp: START + 5,
        sentTimestamp: START,
      });
      expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    });

    it('rejects a max outside 1..10', () => {
      const queue = makeQueue();
      expect(() => queue.receive({ max: 0 })).toThrow(
        expect.objectContaining({ code: 'InvalidParameterValue' }),
      );
      expect(() => queue.receive({ max: 11 })).toThrow(
        expect.objectContaining({ code: 'InvalidParameterValue' }),
      );
    });

    it('keeps string attributes', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1', { attributes: { connectionId: 'conn-1' } }));
      expect(queue.receive()[0]?.attributes).toEqual({ connectionId: 'conn-1' });
    });
  });

  describe('changeVisibility', () => {
    it('makes a message visible at once with 0', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      const [first] = queue.receive();
      await queue.changeVisibility(first?.receiptHandle ?? '', 0);
      expect(queue.receive()[0]).toMatchObject({ messageId: first?.messageId, receiveCount: 2 });
    });

    it('counts the new timeout from now, not from the receive', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      const [first] = queue.receive();
      clock += 20_000;
      await queue.changeVisibility(first?.receiptHandle ?? '', 60);
      clock += 59_999;
      expect(queue.receive()).toEqual([]);
      clock += 1;
      expect(queue.receive()).toHaveLength(1);
    });

    it('rejects a timeout outside 0..43200 seconds', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      const [first] = queue.receive();
      expect(await codeOf(() => queue.changeVisibility(first?.receiptHandle ?? '', 43_201))).toBe(
        'InvalidParameterValue',
      );
    });
  });

  describe('receipt handles', () => {
    let queue: LocalFifoQueue;
    beforeEach(async () => {
      queue = makeQueue();
      await queue.send(msg('a', '1'));
    });

    it('deletes a message with the handle of its latest receive', () => {
      const [first] = queue.receive();
      queue.delete(first?.receiptHandle ?? '');
      expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, total: 0 });
    });

    it('refuses the handle of an earlier receive with ReceiptHandleIsInvalid', async () => {
      const [first] = queue.receive();
      clock += VISIBILITY_S * 1000;
      const [second] = queue.receive();
      expect(await codeOf(() => queue.delete(first?.receiptHandle ?? ''))).toBe(
        'ReceiptHandleIsInvalid',
      );
      expect(await codeOf(() => queue.changeVisibility(first?.receiptHandle ?? '', 0))).toBe(
        'ReceiptHandleIsInvalid',
      );
      expect(queue.stats().inFlight).toBe(1);
      queue.delete(second?.receiptHandle ?? '');
      expect(queue.stats().total).toBe(0);
    });

    it('refuses a handle whose visibility timeout ran out, as SQS does for FIFO queues', async () => {
      const [first] = queue.receive();
      clock += VISIBILITY_S * 1000;
      expect(await codeOf(() => queue.delete(first?.receiptHandle ?? ''))).toBe(
        'ReceiptHandleIsInvalid',
      );
      expect(queue.stats().total).toBe(1);
    });

    it('refuses unknown handles and handles of deleted messages', async () => {
      const [first] = queue.receive();
      queue.delete(first?.receiptHandle ?? '');
      expect(await codeOf(() => queue.delete(first?.receiptHandle ?? ''))).toBe(
        'ReceiptHandleIsInvalid',
      );
      expect(await codeOf(() => queue.changeVisibility('no-such-handle', 10))).toBe(
        'ReceiptHandleIsInvalid',
      );
    });
  });

  describe('redrive policy', () => {
    it('moves a message to the DLQ on the receive after maxReceiveCount, and serves the next one', async () => {
      const dlq = makeQueue({ name: 'changes-dlq.fifo' });
      const queue = makeQueue({ maxReceiveCount: 2, deadLetterQueue: dlq });
      const poison = await queue.send(msg('a', 'evt-1', { attributes: { connectionId: 'c1' } }));
      await queue.send(msg('a', 'evt-2'));
      expect(queue.receive({ max: 1 })[0]?.receiveCount).toBe(1);
      clock += VISIBILITY_S * 1000;
      expect(queue.receive({ max: 1 })[0]?.receiveCount).toBe(2);
      clock += VISIBILITY_S * 1000;
      expect(bodies(queue.receive({ max: 1 }))).toEqual(['a:evt-2']);
      expect(queue.stats().total).toBe(1);
      expect(dlq.peek()).toEqual([
        expect.objectContaining({
          messageId: poison.messageId,
          body: 'a:evt-1',
          groupId: 'a',
          deduplicationId: poison.messageId,
          attributes: { connectionId: 'c1' },
          receiveCount: 0,
          state: 'visible',
          deadLetterSourceQueue: 'changes.fifo',
        }),
      ]);
    });

    it('needs maxReceiveCount and the dead-letter queue together', () => {
      expect(() => makeQueue({ maxReceiveCount: 3 })).toThrow(RangeError);
      expect(() => makeQueue({ deadLetterQueue: makeQueue({ name: 'dlq.fifo' }) })).toThrow(
        RangeError,
      );
    });
  });

  describe('moveAllTo', () => {
    it('moves dead letters back in order with new ids and fresh receive counts', async () => {
      const dlq = makeQueue({ name: 'changes-dlq.fifo' });
      const queue = makeQueue({ maxReceiveCount: 1, deadLetterQueue: dlq });
      const sent = [
        await queue.send(msg('a', '1')),
        await queue.send(msg('b', '1')),
        await queue.send(msg('a', '2')),
      ];
      queue.receive();
      clock += VISIBILITY_S * 1000;
      expect(queue.receive()).toEqual([]);
      expect(dlq.stats().total).toBe(3);

      expect(dlq.moveAllTo(queue)).toBe(3);
      expect(dlq.stats().total).toBe(0);
      const back = queue.peek();
      // In dead-letter order: group a reached the DLQ in one receive, before group b.
      expect(bodies(back)).toEqual(['a:1', 'a:2', 'b:1']);
      for (const message of back) {
        expect(sent.map((s) => s.messageId)).not.toContain(message.messageId);
        expect(message.receiveCount).toBe(0);
      }
      expect(bodies(queue.receive())).toEqual(['a:1', 'a:2', 'b:1']);
    });

    it('leaves messages that are in flight in the source queue', async () => {
      const dlq = makeQueue({ name: 'changes-dlq.fifo' });
      const target = makeQueue();
      await dlq.send(msg('a', '1'));
      await dlq.send(msg('b', '1'));
      dlq.receive({ max: 1 });
      expect(dlq.moveAllTo(target)).toBe(1);
      expect(bodies(target.peek())).toEqual(['b:1']);
      expect(dlq.stats()).toEqual({ visible: 0, inFlight: 1, total: 1 });
    });
  });

  describe('peek and stats', () => {
    it('counts visible and in-flight messages without receiving anything', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      await queue.send(msg('a', '2'));
      await queue.send(msg('b', '1'));
      queue.receive({ max: 1 });
      expect(queue.stats()).toEqual({ visible: 2, inFlight: 1, total: 3 });
      expect(queue.peek().map((m) => [m.body, m.state])).toEqual([
        ['a:1', 'in-flight'],
        ['a:2', 'visible'],
        ['b:1', 'visible'],
      ]);
      expect(queue.stats()).toEqual({ visible: 2, inFlight: 1, total: 3 });
    });
  });

  describe('toSqsEvent', () => {
    it('builds the records Lambda hands an SQS FIFO consumer', async () => {
      const queue = makeQueue();
      const sent = await queue.send({
        body: 'derp',
        groupId: 'conn-1:user-42',
        deduplicationId: 'evt_1',
        attributes: { connectionId: 'conn-1' },
      });
      clock += 250;
      const received = queue.receive();
      const event = queue.toSqsEvent(received, { queueArn: ARN, region: 'ap-southeast-1' });
      expect(event).toEqual({
        Records: [
          {
            messageId: sent.messageId,
            receiptHandle: received[0]?.receiptHandle,
            body: 'derp',
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: String(START),
              SequenceNumber: sent.sequenceNumber,
              MessageGroupId: 'conn-1:user-42',
              SenderId: expect.any(String),
              MessageDeduplicationId: 'evt_1',
              ApproximateFirstReceiveTimestamp: String(START + 250),
            },
            messageAttributes: {
              connectionId: {
                stringValue: 'conn-1',
                stringListValues: [],
                binaryListValues: [],
                dataType: 'String',
              },
            },
            // MD5 of "derp" as SQS reports it (moto's SQS tests pin the same digest).
            md5OfBody: '58fd9edd83341c29f1aebba81c31e257',
            md5OfMessageAttributes: md5OfMessageAttributes({
              connectionId: { dataType: 'String', stringValue: 'conn-1' },
            }),
            eventSource: 'aws:sqs',
            eventSourceARN: ARN,
            awsRegion: 'ap-southeast-1',
          },
        ],
      });
    });

    it('leaves md5OfMessageAttributes out when the message has no attributes', async () => {
      const queue = makeQueue();
      await queue.send(msg('a', '1'));
      const [record] = queue.toSqsEvent(queue.receive(), {
        queueArn: ARN,
        region: 'eu-west-1',
      }).Records;
      expect(record?.messageAttributes).toEqual({});
      expect(record).not.toHaveProperty('md5OfMessageAttributes');
    });
  });

  describe('md5OfMessageAttributes', () => {
    it.each([
      ['1493147359900', '235c5c510d26fb653d073faed50ae77c'],
      ['1493147359901', '994258b45346a2cc3f9cbb611aa7af30'],
    ])('matches the digest SQS returns for timestamp=%s (Number)', (value, digest) => {
      expect(
        md5OfMessageAttributes({ timestamp: { dataType: 'Number', stringValue: value } }),
      ).toBe(digest);
    });

    it('does not depend on the order the attributes are given in', () => {
      const a = { dataType: 'String', stringValue: 'x' };
      const b = { dataType: 'String', stringValue: 'y' };
      expect(md5OfMessageAttributes({ a, b })).toBe(md5OfMessageAttributes({ b, a }));
    });
  });

  describe('FIFO guarantees (property)', () => {
    type Step =
      | { kind: 'send'; group: number }
      | { kind: 'receive'; max: number; ack: number[] }
      | { kind: 'advance'; ms: number };

    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), group: fc.integer({ min: 0, max: 2 }) }),
      fc.record({
        kind: fc.constant('receive' as const),
        max: fc.integer({ min: 1, max: 10 }),
        // How many messages of each received group the consumer finishes (a prefix, as FIFO needs).
        ack: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }),
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    );

    it('delivers each group in send order, one receive at a time, whatever the interleaving', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 60 }), async (steps) => {
          clock = START;
          const queue = makeQueue();
          const pending: string[][] = [[], [], []];
          const done: string[][] = [[], [], []];
          let sent = 0;
          // Handles the consumer has not acknowledged: a group is busy while any is unexpired.
          const busyUntil = new Map<string, number>();
          for (const s of steps) {
            if (s.kind === 'send') {
              const body = `${s.group}:${sent++}`;
              await queue.send({ body, groupId: `g${s.group}`, deduplicationId: body });
              pending[s.group]?.push(body);
            } else if (s.kind === 'advance') {
              clock += s.ms;
            } else {
              const batch = queue.receive({ max: s.max });
              const groupsInBatch = [...new Set(batch.map((m) => m.groupId))];
              for (const groupId of groupsInBatch) {
                expect(busyUntil.get(groupId) ?? 0).toBeLessThanOrEqual(clock);
                const group = Number(groupId.slice(1));
                const mine = batch.filter((m) => m.groupId === groupId);
                // Consecutive from the oldest unfinished message of the group.
                expect(bodies(mine)).toEqual(pending[group]?.slice(0, mine.length));
                const ack = Math.min(s.ack[group] ?? 0, mine.length);
                for (const m of mine.slice(0, ack)) queue.delete(m.receiptHandle);
                done[group]?.push(...(pending[group]?.splice(0, ack) ?? []));
                busyUntil.set(groupId, ack < mine.length ? clock + VISIBILITY_S * 1000 : 0);
              }
              // A batch holds each group's messages together.
              expect(groupsInBatch.length).toBe(
                batch.filter((m, i) => i === 0 || batch[i - 1]?.groupId !== m.groupId).length,
              );
            }
          }
          for (const group of [0, 1, 2]) {
            const all = [...(done[group] ?? []), ...(pending[group] ?? [])];
            expect(all.map((b) => Number(b.split(':')[1]))).toEqual(
              [...all.map((b) => Number(b.split(':')[1]))].sort((x, y) => x - y),
            );
          }
          expect(queue.stats().total).toBe(pending.flat().length);
        }),
        { numRuns: 200 },
      );
    });
  });
});
