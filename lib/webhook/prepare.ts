import type { GroupResolver } from '../ciam/groups.ts';
import { prepareEach } from '../config/prepare.ts';
import type { AdapterConfig, Connection, WebhookSourceType } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { connectionFilter } from '../filter/index.ts';
import { compileMapping } from '../mapping/index.ts';
import type { SourceDefinition } from '../sources/types.ts';
import { membershipMapper } from './groups.ts';
import type { PreparedConnection } from './process.ts';

/**
 * Cold-start work for every webhook connection: bind its source (schemas, expressions), compile
 * its mapping and its filter, so a bad connection fails the deployment's first invocation loudly instead of the
 * first matching webhook quietly.
 */
export const prepareConnections = (
  config: AdapterConfig,
  sources: Readonly<Record<WebhookSourceType, SourceDefinition>>,
  options: {
    queued: boolean;
    /**
     * Finds CIAM groups by name for membership events; without it only `groups.map` answers. Per
     * connection when each tenant has its own.
     */
    groups?: GroupResolver | ((connection: Connection) => GroupResolver);
  },
): ReadonlyMap<string, PreparedConnection> =>
  prepareEach(config.connections, (connection) => {
    // SCIM connections are served by the SCIM function (lib/scim), not as webhooks.
    if (connection.source === 'scim') return undefined;
    if (connection.delivery === 'queued' && !options.queued) {
      throw new ConfigError('delivery "queued" needs the queue to be configured');
    }
    const filter = connectionFilter(connection);
    return {
      connection,
      source: sources[connection.source].prepare(connection),
      mapper: compileMapping(connection),
      memberships: membershipMapper(
        connection,
        typeof options.groups === 'function' ? options.groups(connection) : options.groups,
      ),
      ...(filter === undefined ? {} : { filter }),
    };
  });
