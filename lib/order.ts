import type { OrderGuard } from './ciam/apply.ts';
import { defaultWatermarkAttribute } from './ciam/watermark.ts';
import type { Connection } from './config/types.ts';

type GuardedConnection = Pick<Connection, 'id' | 'source' | 'options' | 'staleGuard' | 'mapping'>;

/**
 * Whether a connection's changes carry the time they happened at the source. Every source type
 * does but `hmac`, which knows only the delivery time unless its config names an event-time field
 * or a signed timestamp header; ordering by delivery time would let a retried old change win.
 */
const givesEventTime = ({ source, options }: GuardedConnection): boolean => {
  if (source !== 'hmac') return true;
  const fields = options.fields as Record<string, unknown> | undefined;
  return fields?.occurredAt !== undefined || options.timestampHeader !== undefined;
};

/** The connection's stale-event guard, or undefined when it is off. */
export const orderGuardOf = (connection: GuardedConnection): OrderGuard | undefined => {
  const enabled = connection.staleGuard?.enabled ?? givesEventTime(connection);
  if (!enabled) return undefined;
  return {
    attribute: connection.staleGuard?.attribute ?? defaultWatermarkAttribute(connection.id),
    type: connection.mapping.customAttributeType ?? 'STRING',
  };
};
