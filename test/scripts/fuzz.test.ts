import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../scripts/fuzz.ts';

describe('npm run fuzz (small)', () => {
  it('sends hostile requests to npm start: no 5xx, every refusal coded, nothing reaches CIAM, refused addresses refused', async () => {
    const answered: number[] = [];
    const result = await runFuzz(300, 20_261_128, (label, done, total) => {
      if (label === 'fuzz: requests' && total === 300 && done !== undefined) answered.push(done);
    });
    expect(result).toMatchObject({
      requests: 300,
      status5xx: 0,
      noCode: 0,
      upstreamCalls: 0,
      crashes: 0,
      refusedLeaks: 0,
    });
    // Some came from addresses the allow-listed twins refuse, and every one of them was refused.
    expect(result.refusedSources).toBeGreaterThan(20);
    // What `npm run fuzz` shows on a terminal: the answers counted up to the last.
    expect(answered).toEqual(Array.from({ length: 301 }, (_, i) => i));
  }, 90_000);
});
