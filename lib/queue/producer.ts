import type { PlannedUpdate } from '../ciam/apply.ts';
import type { UserResolver } from '../ciam/resolve.ts';
import type { CallOptions } from '../ciam/types.ts';
import { tenantIdOf } from '../config/tenants.ts';
import type { Connection } from '../config/types.ts';
import type { Deliver, QueuedUpdate } from '../delivery/delivery.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { deduplicationId, toEnvelope, userGroupId } from './envelope.ts';
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_MESSAGES,
  messageBytes,
  type OutgoingMessage,
  type QueuePort,
} from './types.ts';

/**
 * SQS takes 256 KiB per message, attributes included. The consumer dead-letters a message with
 * its body verbatim plus up to nine reason attributes, so a body must leave room for those, or a
 * change could be stored but never dead-lettered.
 */
export const MAX_ENVELOPE_BYTES = 256 * 1024 - 8 * 1024;

export interface QueuedDeliveryDeps {
  queue: QueuePort;
  /**
   * Finds each change's CIAM user before it is queued, since the user names the FIFO group: changes
   * to one user from any connection are then applied one at a time. The runtime's resolver, whose
   * cache spares CIAM a lookup per change. With several tenants, the connection's tenant's.
   */
  resolver:
    | Pick<UserResolver, 'resolve'>
    | ((connection: Connection) => Pick<UserResolver, 'resolve'>);
  /** Epoch milliseconds. */
  now: () => number;
}

/** Consecutive runs of messages that each fit one SendMessageBatch (count and bytes). */
const batchesOf = (messages: readonly OutgoingMessage[]): OutgoingMessage[][] => {
  const batches: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (
      current.length === MAX_BATCH_MESSAGES ||
      (current.length > 0 && bytes + size > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
};

/**
 * `delivery: "queued"`: one FIFO message per change, grouped by CIAM user, deduplicated by the
 * sender's event id; the sender is answered 202 only once SQS has stored every change of the
 * request. Every change is resolved and checked before the first is sent, so a change that cannot
 * be queued (its user not found, ambiguous, CIAM unavailable, too large) fails the request with
 * nothing stored, answered with that error's status. Changes are then sent in the sender's order
 * (several in batches of up to 10, each stored in order) so a user's changes keep it in their group.
 */
export const createQueuedDelivery =
  (deps: QueuedDeliveryDeps): Deliver =>
  async (connection: Connection, updates: readonly PlannedUpdate[], options) => {
    const receivedAt = new Date(deps.now()).toISOString();
    const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
    const messages: Array<{ eventId: string; message: OutgoingMessage }> = [];
    const resolver =
      typeof deps.resolver === 'function' ? deps.resolver(connection) : deps.resolver;
    const tenantId = tenantIdOf(connection);
    for (const planned of updates) {
      // A connection resolving by userId reads it off the change: no CIAM call.
      const userId = await resolver.resolve(connection, planned.change, call);
      const envelope = toEnvelope(connection, planned, {
        receivedAt,
        traceId: options.traceId,
        userId,
      });
      const body = JSON.stringify(envelope);
      if (Buffer.byteLength(body) > MAX_ENVELOPE_BYTES) {
        throw new AdapterError('PAYLOAD_TOO_LARGE', 'The mapped change is too large to queue', {
          details: { maxBytes: MAX_ENVELOPE_BYTES },
        });
      }
      messages.push({
        eventId: envelope.eventId,
        message: {
          body,
          groupId: userGroupId(connection.userStoreId, userId, tenantId),
          deduplicationId: deduplicationId(connection.id, envelope.eventId),
          attributes: { connectionId: connection.id, eventType: envelope.eventType },
        },
      });
    }
    const results: QueuedUpdate[] = [];
    try {
      // A request of several changes (a reconciliation, a SCIM group's members) goes in batches of
      // up to 10, stored in order; a single change keeps its one SendMessage.
      const sendBatch = deps.queue.sendBatch?.bind(deps.queue);
      if (sendBatch !== undefined && messages.length > 1) {
        for (const chunk of batchesOf(messages.map(({ message }) => message))) {
          const sent = await sendBatch(chunk, call);
          for (const { messageId } of sent) {
            const eventId = messages[results.length]?.eventId ?? '';
            results.push({ status: 'queued', eventId, messageId });
          }
        }
      } else {
        for (const { eventId, message } of messages) {
          const sent = await deps.queue.send(message, call);
          results.push({ status: 'queued', eventId, messageId: sent.messageId });
        }
      }
    } catch (error) {
      if (isAdapterError(error)) throw error;
      // Nothing is acknowledged that was not stored: the sender retries, and the changes this
      // request did store are dropped as duplicates by SQS or the stale-event guard.
      throw new AdapterError('QUEUE_UNAVAILABLE', 'The change could not be queued', {
        cause: error,
      });
    }
    return { results };
  };
