import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/load.ts';
import { buildConfigSchema } from '../../lib/config/schema.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import { prepareConnections } from '../../lib/webhook/prepare.ts';
import { SOURCE_OPTION_SCHEMAS } from '../../scripts/option-schemas.ts';

const readFile = (path: string) => readFileSync(path, 'utf8');

describe('shipped configuration', () => {
  it('keeps config/schema.json in step with the sources (run scripts/gen-config-schema.ts)', () => {
    const shipped = JSON.parse(readFile('config/schema.json'));
    expect(shipped).toEqual(buildConfigSchema(SOURCE_OPTION_SCHEMAS));
  });

  it.each(['config/local.json', 'config/production.json'])(
    'loads %s with the real source schemas and prepares every connection',
    (path) => {
      const config = loadConfig({ configPath: path }, { readFile });
      const prepared = prepareConnections(config, SOURCES, { queued: true });
      // SCIM connections are the SCIM function's (lib/scim/handler.ts), not webhooks.
      expect([...prepared.keys()]).toEqual(
        config.connections.filter((c) => c.source !== 'scim').map((c) => c.id),
      );
    },
  );

  it('refuses a queued connection until the queue is configured', () => {
    const config = loadConfig({ configPath: 'config/local.json' }, { readFile });
    const queued = {
      ...config,
      connections: config.connections.map((c) => ({ ...c, delivery: 'queued' as const })),
    };
    expect(() => prepareConnections(queued, SOURCES, { queued: false })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
