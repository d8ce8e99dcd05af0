import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { metricsDrift, metricsOutcome } from '../../lib/metrics.ts';

describe('metricsOutcome', () => {
  it('writes one EMF blob per outcome, with only that outcome dimensions', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    const log = vi
      .spyOn(Reflect.get(metrics, 'console') as Console, 'log')
      .mockImplementation((line) => {
        lines.push(String(line));
      });
    const record = metricsOutcome(metrics);
    record('clerk', 'applied', 1);
    record('okta', 'SIGNATURE_INVALID', 2);
    vi.unstubAllEnvs();
    log.mockRestore();
    const blobs = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(blobs).toHaveLength(2);
    expect(blobs[0]).toMatchObject({ connection: 'clerk', outcome: 'applied', Events: 1 });
    expect(blobs[1]).toMatchObject({ connection: 'okta', outcome: 'SIGNATURE_INVALID', Events: 2 });
    expect(JSON.stringify(blobs[1])).not.toContain('clerk');
  });
});

describe('metricsDrift', () => {
  it('writes Drift (the sum the alarm watches) and each kind, by connection, in one blob', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    const log = vi
      .spyOn(Reflect.get(metrics, 'console') as Console, 'log')
      .mockImplementation((line) => {
        lines.push(String(line));
      });
    metricsDrift(metrics)('clerk', { changes: 3, unmatched: 2, orphaned: 1 });
    vi.unstubAllEnvs();
    log.mockRestore();
    const blobs = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({
      connection: 'clerk',
      service: 'svc',
      Drift: 6,
      DriftChanges: 3,
      DriftUnmatched: 2,
      DriftOrphaned: 1,
    });
  });
});
