import type { Connection, SourceType } from '../config/types.ts';
import { hmacSuppliesEventTime } from './hmac/event-time.ts';

type SuppliesEventTime = (options: Readonly<Record<string, unknown>>) => boolean;

const always: SuppliesEventTime = () => true;

/**
 * Whether each source type's changes carry the time they happened at the source, which the
 * stale-event guard orders by. A table beside the source definitions rather than a field of them:
 * the queue consumer needs the answer but must not load the definitions (their schemas and
 * validators are most of the webhook bundle).
 */
const SUPPLIES_EVENT_TIME: Readonly<Record<SourceType, SuppliesEventTime>> = {
  'standard-webhooks': always,
  workos: always,
  auth0: always,
  okta: always,
  scim: always,
  hmac: hmacSuppliesEventTime,
};

export const suppliesEventTime = ({ source, options }: Pick<Connection, 'source' | 'options'>) =>
  SUPPLIES_EVENT_TIME[source](options);
