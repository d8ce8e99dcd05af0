import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultDeps } from '../../handlers/webhook.ts';

const LOCAL = {
  ADAPTER_CONFIG: 'config/local.json',
  ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
};

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('defaultDeps (composition root)', () => {
  it('prepares every configured connection at cold start', () => {
    expect([...defaultDeps(LOCAL).connections.keys()]).toEqual([
      'clerk',
      'workos',
      'auth0',
      'hmac',
    ]);
  });

  it('fails fast with CONFIG_INVALID when the configuration file is broken', () => {
    expect(() => defaultDeps({ ADAPTER_CONFIG: 'package.json' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('emits one EMF metric per outcome with connection and outcome dimensions', () => {
    // Metrics reads this at construction; the suite disables EMF output elsewhere.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    defaultDeps(LOCAL).recordOutcome('clerk', 'SIGNATURE_INVALID', 2);
    const emf = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('_aws'))
      .map((line) => JSON.parse(line));
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ connection: 'clerk', outcome: 'SIGNATURE_INVALID', Events: 2 });
    expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(
      expect.arrayContaining(['connection', 'outcome']),
    );
  });
});
