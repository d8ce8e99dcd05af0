import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../scripts/fuzz.ts';

describe('npm run fuzz (small)', () => {
  it('sends hostile requests to npm start: no 5xx, every refusal coded, nothing reaches CIAM', async () => {
    const result = await runFuzz(300, 20_261_128);
    expect(result).toMatchObject({
      requests: 300,
      status5xx: 0,
      noCode: 0,
      upstreamCalls: 0,
      crashes: 0,
    });
  }, 90_000);
});
