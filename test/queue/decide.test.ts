import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../lib/ciam/apply.ts';
import { AdapterError, ERRORS, type ErrorCode } from '../../lib/errors.ts';
import {
  type AttemptOutcome,
  backoffSeconds,
  decideRecord,
  type QueueSettings,
  type RecordDecision,
} from '../../lib/queue/decide.ts';
import { UpstreamError } from '../../lib/tencent/errors.ts';

const SETTINGS: QueueSettings = { maxReceiveCount: 5, settleSeconds: 60 };

const applied = (extra: { lateWritePossible?: true } = {}): AttemptOutcome => ({
  ok: true,
  result: { status: 'applied', eventId: 'evt-1', userId: 'u-1', requestId: 'req-1', ...extra },
});
const ignored = (
  reason: Extract<ApplyResult, { status: 'ignored' }>['reason'],
): AttemptOutcome => ({
  ok: true,
  result: { status: 'ignored', eventId: 'evt-1', userId: 'u-1', reason },
});
const failed = (error: AdapterError): AttemptOutcome => ({ ok: false, error });
const upstream = (upstreamCode: string) =>
  failed(new UpstreamError({ upstreamCode, action: 'UpdateUser', requestId: 'req-9' }));
const adapter = (code: ErrorCode, message = 'it failed', cause?: unknown) =>
  failed(new AdapterError(code, message, cause === undefined ? {} : { cause }));

/** Calls the decision with a jitter source that records how often it was drawn. */
const decide = (
  outcome: AttemptOutcome,
  receiveCount: number,
  settings: QueueSettings = SETTINGS,
  draw = 0,
): { decision: RecordDecision; draws: number } => {
  let draws = 0;
  const decision = decideRecord({
    outcome,
    receiveCount,
    settings,
    random: () => {
      draws += 1;
      return draw;
    },
  });
  return { decision, draws };
};

describe('queue/decide decideRecord', () => {
  const LATE = 'applied; an abandoned attempt of the write may still land';

  it.each<[string, AttemptOutcome, number, QueueSettings, RecordDecision]>([
    // What apply settles
    ['applied', applied(), 1, SETTINGS, { kind: 'ack', reason: 'applied' }],
    ['ignored as stale', ignored('stale'), 1, SETTINGS, { kind: 'ack', reason: 'stale' }],
    [
      'ignored as duplicate',
      ignored('duplicate'),
      3,
      SETTINGS,
      { kind: 'ack', reason: 'duplicate' },
    ],
    [
      'applied, late write possible',
      applied({ lateWritePossible: true }),
      1,
      SETTINGS,
      { kind: 'hold', delaySeconds: 60, reason: LATE },
    ],
    [
      'applied, late write possible, settle from the settings',
      applied({ lateWritePossible: true }),
      4,
      { maxReceiveCount: 5, settleSeconds: 90 },
      { kind: 'hold', delaySeconds: 90, reason: LATE },
    ],
    [
      'applied, late write possible, on the last receive',
      applied({ lateWritePossible: true }),
      5,
      SETTINGS,
      { kind: 'ack', reason: 'applied' },
    ],
    // Retryable
    [
      'CIAM InternalError',
      upstream('InternalError'),
      1,
      SETTINGS,
      {
        kind: 'retry',
        delaySeconds: 30,
        reason: 'UPSTREAM_UNAVAILABLE: Tencent UpdateUser failed with InternalError',
      },
    ],
    [
      'a gateway 502, second receive',
      upstream('HTTP_502'),
      2,
      SETTINGS,
      {
        kind: 'retry',
        delaySeconds: 60,
        reason: 'UPSTREAM_UNAVAILABLE: Tencent UpdateUser failed with HTTP_502',
      },
    ],
    [
      'the deadline, fourth receive',
      adapter('DEADLINE_EXCEEDED', 'Ran out of time applying the change'),
      4,
      SETTINGS,
      { kind: 'retry', delaySeconds: 240, reason: 'DEADLINE_EXCEEDED' },
    ],
    [
      'a refused secret',
      adapter('SECRET_UNAVAILABLE'),
      1,
      SETTINGS,
      { kind: 'retry', delaySeconds: 30, reason: 'SECRET_UNAVAILABLE' },
    ],
    // Rate limited
    [
      'CIAM RequestLimitExceeded',
      upstream('RequestLimitExceeded'),
      1,
      SETTINGS,
      {
        kind: 'retry',
        delaySeconds: 30,
        reason: 'UPSTREAM_RATE_LIMITED: Tencent UpdateUser failed with RequestLimitExceeded',
      },
    ],
    [
      'a rate-limit sub-code, third receive',
      upstream('RequestLimitExceeded.UinLimitExceeded'),
      3,
      SETTINGS,
      {
        kind: 'retry',
        delaySeconds: 120,
        reason:
          'UPSTREAM_RATE_LIMITED: Tencent UpdateUser failed with RequestLimitExceeded.UinLimitExceeded',
      },
    ],
    // Uncertain: a timed-out attempt, then the write's fate unknown
    [
      'an attempt that timed out',
      upstream('TIMEOUT'),
      1,
      SETTINGS,
      {
        kind: 'retry',
        delaySeconds: 30,
        reason: 'UPSTREAM_UNAVAILABLE: Tencent UpdateUser failed with TIMEOUT',
      },
    ],
    [
      'outcome unknown waits the settle time over a shorter backoff',
      adapter('UPSTREAM_OUTCOME_UNKNOWN'),
      1,
      SETTINGS,
      { kind: 'retry', delaySeconds: 60, reason: 'UPSTREAM_OUTCOME_UNKNOWN' },
    ],
    [
      'outcome unknown keeps a backoff longer than the settle time',
      adapter('UPSTREAM_OUTCOME_UNKNOWN'),
      4,
      SETTINGS,
      { kind: 'retry', delaySeconds: 240, reason: 'UPSTREAM_OUTCOME_UNKNOWN' },
    ],
    [
      'outcome unknown on the last receive',
      adapter('UPSTREAM_OUTCOME_UNKNOWN'),
      5,
      SETTINGS,
      { kind: 'dead-letter', reason: 'UPSTREAM_OUTCOME_UNKNOWN' },
    ],
    // Permanent
    [
      'CIAM conflict',
      upstream('FailedOperation.EmailAlreadyExists'),
      1,
      SETTINGS,
      {
        kind: 'dead-letter',
        reason:
          'UPSTREAM_CONFLICT: Tencent UpdateUser failed with FailedOperation.EmailAlreadyExists',
      },
    ],
    [
      'CIAM rejecting a parameter',
      upstream('InvalidParameterValue'),
      2,
      SETTINGS,
      {
        kind: 'dead-letter',
        reason: 'UPSTREAM_REJECTED: Tencent UpdateUser failed with InvalidParameterValue',
      },
    ],
    [
      'an envelope that does not parse',
      adapter('MESSAGE_INVALID', 'The queued message is not a valid envelope'),
      1,
      SETTINGS,
      {
        kind: 'dead-letter',
        reason: 'MESSAGE_INVALID: The queued message is not a valid envelope',
      },
    ],
    [
      'a connection that is gone',
      adapter('CONNECTION_NOT_FOUND', 'No connection c-1 is configured'),
      1,
      SETTINGS,
      { kind: 'dead-letter', reason: 'CONNECTION_NOT_FOUND: No connection c-1 is configured' },
    ],
    // The last receive
    [
      'retryable on the last receive',
      upstream('InternalError'),
      5,
      SETTINGS,
      {
        kind: 'dead-letter',
        reason: 'UPSTREAM_UNAVAILABLE: Tencent UpdateUser failed with InternalError',
      },
    ],
    [
      'retryable past the last receive',
      adapter('QUEUE_UNAVAILABLE'),
      9,
      SETTINGS,
      { kind: 'dead-letter', reason: 'QUEUE_UNAVAILABLE' },
    ],
    [
      'retryable when one receive is all there is',
      adapter('INTERNAL', 'boom', new TypeError('x is undefined')),
      1,
      { maxReceiveCount: 1, settleSeconds: 60 },
      { kind: 'dead-letter', reason: 'INTERNAL (TypeError)' },
    ],
  ])('%s', (_name, outcome, receiveCount, settings, expected) => {
    expect(decide(outcome, receiveCount, settings).decision).toEqual(expected);
  });

  describe('every code of the error table', () => {
    const codes = Object.keys(ERRORS) as ErrorCode[];

    it.each(codes)('%s: retried before the last receive only when retryable', (code) => {
      const { retryable } = ERRORS[code];
      for (let receive = 1; receive < SETTINGS.maxReceiveCount; receive += 1) {
        expect(decide(adapter(code), receive).decision.kind).toBe(
          retryable ? 'retry' : 'dead-letter',
        );
      }
      expect(decide(adapter(code), SETTINGS.maxReceiveCount).decision.kind).toBe('dead-letter');
    });
  });

  describe('backoff with jitter', () => {
    const retryable = fc.constantFrom<ErrorCode>(
      ...(Object.keys(ERRORS) as ErrorCode[]).filter((code) => ERRORS[code].retryable),
    );

    it('delays a retry by 80–100 % of its backoff, never past 15 minutes', () => {
      fc.assert(
        fc.property(
          retryable.filter((code) => code !== 'UPSTREAM_OUTCOME_UNKNOWN'),
          fc.integer({ min: 1, max: 999 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          (code, receiveCount, draw) => {
            const settings = { maxReceiveCount: 1000, settleSeconds: 60 };
            const { decision } = decide(adapter(code), receiveCount, settings, draw);
            const base = backoffSeconds(receiveCount, () => 0);
            if (decision.kind !== 'retry')
              throw new Error(`expected a retry, got ${decision.kind}`);
            expect(Number.isInteger(decision.delaySeconds)).toBe(true);
            expect(decision.delaySeconds).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
            expect(decision.delaySeconds).toBeLessThanOrEqual(base);
            expect(decision.delaySeconds).toBeLessThanOrEqual(900);
          },
        ),
      );
    });

    it('never retries an unknown outcome before the settle time, whatever the jitter', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 4 }),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.integer({ min: 1, max: 3600 }),
          (receiveCount, draw, settleSeconds) => {
            const settings = { maxReceiveCount: 5, settleSeconds };
            const { decision } = decide(
              adapter('UPSTREAM_OUTCOME_UNKNOWN'),
              receiveCount,
              settings,
              draw,
            );
            expect(decision).toEqual({
              kind: 'retry',
              delaySeconds: Math.max(
                settleSeconds,
                backoffSeconds(receiveCount, () => draw),
              ),
              reason: 'UPSTREAM_OUTCOME_UNKNOWN',
            });
          },
        ),
      );
    });

    it('takes the jitter off the delay: the largest draw gives the shortest wait', () => {
      const at = (draw: number) => decide(upstream('InternalError'), 3, SETTINGS, draw).decision;
      expect(at(0)).toMatchObject({ kind: 'retry', delaySeconds: 120 });
      expect(at(0.5)).toMatchObject({ kind: 'retry', delaySeconds: 108 });
      expect(at(0.999_999)).toMatchObject({ kind: 'retry', delaySeconds: 97 });
    });

    it('draws jitter once for a retry and never otherwise', () => {
      expect(decide(upstream('InternalError'), 1).draws).toBe(1);
      expect(decide(adapter('UPSTREAM_OUTCOME_UNKNOWN'), 1).draws).toBe(1);
      expect(decide(upstream('InternalError'), 5).draws).toBe(0);
      expect(decide(upstream('InvalidParameterValue'), 1).draws).toBe(0);
      expect(decide(applied(), 1).draws).toBe(0);
      expect(decide(applied({ lateWritePossible: true }), 1).draws).toBe(0);
    });
  });

  describe('reason', () => {
    it('never passes 256 characters', () => {
      const { decision } = decide(adapter('PAYLOAD_INVALID', 'x'.repeat(400)), 1);
      expect(decision.reason).toHaveLength(256);
      expect(decision.reason).toBe(`PAYLOAD_INVALID: ${'x'.repeat(238)}…`);
    });

    it('keeps to the code when the message may not be shown', () => {
      const hidden = failed(
        new AdapterError('PAYLOAD_INVALID', 'secret detail', { expose: false }),
      );
      expect(decide(hidden, 1).decision).toEqual({
        kind: 'dead-letter',
        reason: 'PAYLOAD_INVALID',
      });
    });
  });
});
