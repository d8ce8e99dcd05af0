import { describe, expect, it } from 'vitest';
import { runSoak, SOAK_DEFAULTS, soakPassed } from '../../local/soak.ts';

// `npm run soak` at a size CI can afford: every acknowledged change applied, superseded or
// dead-lettered with its reason; CIAM never writes an older change over a newer one, with 32 %
// of CIAM calls failing (timeouts that land late and dropped connections included).
describe('soak (webhook → FIFO queue → consumer → CIAM emulator, with faults)', () => {
  it('loses nothing and writes nothing out of order', { timeout: 120_000 }, async () => {
    const heard: { label: string; done: number | undefined; total: number | undefined }[] = [];
    const report = await runSoak({
      progress: (label, done, total) => heard.push({ label, done, total }),
      ...SOAK_DEFAULTS,
      users: 8,
      changesPerUser: 6,
      duplicateShare: 0.25,
      concurrency: 8,
      clientTimeoutMs: 300,
      seed: 3,
    });
    expect(report).toMatchObject({
      accepted: 48,
      refused: 0,
      lost: 0,
      outOfOrder: 0,
      duplicatesAppliedLate: 0,
      deadLettersWithoutReason: 0,
      usersOnWrongFinalState: 0,
    });
    expect(report.faultsInjected).toBeGreaterThan(0);
    expect(soakPassed(report)).toBe(true);
    // What `npm run soak` shows on a terminal: every send counted, then the later phases.
    const sending = heard.filter((h) => h.label === 'soak: sending');
    expect(sending.map((h) => h.done)).toEqual(
      Array.from({ length: report.sent + 1 }, (_, i) => i),
    );
    expect(sending.every((h) => h.total === report.sent)).toBe(true);
    expect(heard.at(-1)?.label).toBe('soak: waiting for late CIAM writes');
  });
});
