import type { AdapterConfig, WebhookSourceType } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { compileMapping } from '../mapping/index.ts';
import type { SourceDefinition } from '../sources/types.ts';
import type { PreparedConnection } from './process.ts';

/**
 * Cold-start work for every connection: bind its source (schemas, expressions) and compile its
 * mapping, so a bad connection fails the deployment's first invocation loudly instead of the
 * first matching webhook quietly.
 */
export const prepareConnections = (
  config: AdapterConfig,
  sources: Readonly<Record<WebhookSourceType, SourceDefinition>>,
  options: { queued: boolean },
): ReadonlyMap<string, PreparedConnection> => {
  const prepared = new Map<string, PreparedConnection>();
  const problems: string[] = [];
  for (const connection of config.connections) {
    // SCIM connections are served by the SCIM function (lib/scim), not as webhooks.
    if (connection.source === 'scim') continue;
    if (connection.delivery === 'queued' && !options.queued) {
      problems.push(`${connection.id}: delivery "queued" needs the queue to be configured`);
      continue;
    }
    try {
      prepared.set(connection.id, {
        connection,
        source: sources[connection.source].prepare(connection),
        mapper: compileMapping(connection),
      });
    } catch (error) {
      problems.push(`${connection.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid connections:\n- ${problems.join('\n- ')}`, {
      details: problems,
    });
  }
  return prepared;
};
