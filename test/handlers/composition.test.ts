import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuntime } from '../../lib/runtime/index.ts';
import { scimDeps } from '../../lib/runtime/scim.ts';
import { webhookDeps } from '../../lib/runtime/webhook.ts';

const LOCAL = {
  ADAPTER_CONFIG: 'config/local.json',
  ADAPTER_SECRETS_FILE: 'config/local-secrets.json',
  // The demo config has a queued connection: the webhook function then needs its queue.
  QUEUE_URL: 'https://sqs.ap-southeast-1.amazonaws.com/123456789012/changes.fifo',
};

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('createRuntime (composition root)', () => {
  it('prepares every configured connection for the webhook function at cold start', () => {
    expect([...webhookDeps(createRuntime(LOCAL)).connections.keys()]).toEqual([
      'clerk',
      'clerk-queued',
      'workos',
      'auth0',
      'hmac',
      'acme-hmac',
    ]);
  });

  it('prepares the scim connections, and only those, for the SCIM function', () => {
    expect([...scimDeps(createRuntime(LOCAL)).connections.keys()]).toEqual(['scim']);
  });

  it('refuses at cold start a queued connection when no queue is configured', () => {
    const { QUEUE_URL: _queue, ...withoutQueue } = LOCAL;
    expect(() => webhookDeps(createRuntime(withoutQueue))).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('clerk-queued'),
      }),
    );
  });

  it.each([
    ['CIAM_RATE_LIMIT_PER_SECOND', 'fast'],
    ['CIAM_RATE_LIMIT_PER_SECOND', '0'],
    ['CIAM_RATE_LIMIT_MAX_WAIT_MS', '-1'],
    ['QUEUE_MAX_RECEIVE_COUNT', '2.5'],
    ['QUEUE_SETTLE_SECONDS', '99999'],
  ])('fails fast with CONFIG_INVALID naming %s when it is %s', (name, value) => {
    expect(() => createRuntime({ ...LOCAL, [name]: value })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(name) }),
    );
  });

  it('fails fast with CONFIG_INVALID when the configuration file is broken', () => {
    expect(() => createRuntime({ ADAPTER_CONFIG: 'package.json' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('reads the configuration through the injected readFile, not the disk', () => {
    const read: string[] = [];
    const runtime = createRuntime(
      { ADAPTER_CONFIG: 'virtual.json', ADAPTER_SECRETS_FILE: 'config/local-secrets.json' },
      {
        readFile: (path) => {
          read.push(path);
          const local = JSON.parse(readFileSync('config/local.json', 'utf8'));
          return JSON.stringify({ ...local, connections: local.connections.slice(0, 1) });
        },
      },
    );
    expect(read).toEqual(['virtual.json']);
    expect(runtime.config.connections.map((c) => c.id)).toEqual(['clerk']);
  });

  it('points the CIAM client at CIAM_ENDPOINT with the injected fetch', async () => {
    const urls: string[] = [];
    const runtime = createRuntime(
      { ...LOCAL, CIAM_ENDPOINT: 'http://127.0.0.1:9' },
      {
        fetch: async (input) => {
          urls.push(String(input));
          return new Response(JSON.stringify({ Response: { User: null, RequestId: 'r-1' } }), {
            headers: { 'content-type': 'application/json' },
          });
        },
      },
    );
    await runtime.tenants.byId('default').ciam.describeUserById({ UserStoreId: 's', UserId: 'u' });
    // Every tenant: CIAM_ENDPOINT is the local and test override of all their endpoints.
    await runtime.tenants.byId('acme').ciam.describeUserById({ UserStoreId: 's', UserId: 'u' });
    expect(urls).toEqual(['http://127.0.0.1:9/', 'http://127.0.0.1:9/']);
  });

  it('emits one EMF metric per outcome with connection and outcome dimensions', () => {
    // Metrics reads this at construction; the suite disables EMF output elsewhere.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    createRuntime(LOCAL).recordOutcome('clerk', 'SIGNATURE_INVALID', 2);
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
