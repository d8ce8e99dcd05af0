import { describe, expect, it } from 'vitest';
import { runSoak, SOAK_DEFAULTS, soakPassed } from '../../local/soak.ts';

// `npm run soak` at a size CI can afford: two queued connections write the same users, Clerk
// snapshots and partial hmac changes with interleaved event times. Field by field, every
// acknowledged change's newest value reaches CIAM (or its change is dead-lettered with its
// reason), and CIAM never writes a field with an older change over a newer one, with 32 % of CIAM
// calls failing (timeouts that land late and dropped connections included) and redeliveries both
// inside and after SQS's deduplication window.
describe('soak (webhook → FIFO queue → consumer → CIAM emulator, with faults)', () => {
  it('loses no field and writes none out of order', { timeout: 120_000 }, async () => {
    const heard: { label: string; done: number | undefined; total: number | undefined }[] = [];
    const report = await runSoak({
      progress: (label, done, total) => heard.push({ label, done, total }),
      ...SOAK_DEFAULTS,
      users: 8,
      snapshotsPerUser: 4,
      partialsPerUser: 4,
      duplicateShare: 0.25,
      lateRedeliveryShare: 0.25,
      concurrency: 8,
      clientTimeoutMs: 300,
      seed: 3,
    });
    expect(report).toMatchObject({
      accepted: 64,
      refused: 0,
      // Nickname, Email and PhoneNumber of each user.
      fields: 24,
      lost: 0,
      outOfOrder: 0,
      duplicatesAppliedLate: 0,
      deadLettersWithoutReason: 0,
      usersOnWrongFinalState: 0,
      fieldsOnWrongFinalState: 0,
    });
    expect(report.faultsInjected).toBeGreaterThan(0);
    expect(report.redeliveredLate).toBeGreaterThan(0);
    // The field clocks were put to work: changes written in part, skipped as older than what the
    // user held, and recognised when delivered again.
    expect(report.partial).toBeGreaterThan(0);
    expect(report.stale).toBeGreaterThan(0);
    expect(report.duplicate).toBeGreaterThan(0);
    // Retries behind faults back a user's changes up in the queue: some writes carry several.
    expect(report.coalescedWrites).toBeGreaterThan(0);
    expect(report.coalescedWrites).toBeLessThanOrEqual(report.writes);
    expect(soakPassed(report)).toBe(true);
    // What `npm run soak` shows on a terminal: every send counted, then the later phases.
    const counted = (label: string, sent: number) => {
      const steps = heard.filter((h) => h.label === label);
      expect(steps.map((h) => h.done)).toEqual(Array.from({ length: sent + 1 }, (_, i) => i));
      expect(steps.every((h) => h.total === sent)).toBe(true);
    };
    counted('soak: sending', report.sent - report.redeliveredLate);
    counted('soak: redelivering late', report.redeliveredLate);
    expect(heard.at(-1)?.label).toBe('soak: waiting for late CIAM writes');
  });
});
