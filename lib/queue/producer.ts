import type { PlannedUpdate } from '../ciam/apply.ts';
import type { Connection } from '../config/types.ts';
import type { Deliver, QueuedUpdate } from '../delivery/delivery.ts';
import { AdapterError, isAdapterError } from '../errors.ts';
import { deduplicationId, messageGroupId, resolutionKey, toEnvelope } from './envelope.ts';
import type { QueuePort } from './types.ts';

/**
 * SQS takes 256 KiB per message, attributes included. The consumer dead-letters a message with
 * its body verbatim plus up to nine reason attributes, so a body must leave room for those, or a
 * change could be stored but never dead-lettered.
 */
export const MAX_ENVELOPE_BYTES = 256 * 1024 - 8 * 1024;

export interface QueuedDeliveryDeps {
  queue: QueuePort;
  /** Epoch milliseconds. */
  now: () => number;
}

/**
 * `delivery: "queued"`: one FIFO message per change, grouped by user, deduplicated by the sender's
 * event id; the sender is answered 202 only once SQS has stored every change of the request.
 * Changes are sent one after another so a user's changes keep the sender's order in their group.
 */
export const createQueuedDelivery =
  (deps: QueuedDeliveryDeps): Deliver =>
  async (connection: Connection, updates: readonly PlannedUpdate[], options) => {
    const receivedAt = new Date(deps.now()).toISOString();
    const results: QueuedUpdate[] = [];
    for (const planned of updates) {
      const envelope = toEnvelope(connection, planned, receivedAt, options.traceId);
      const body = JSON.stringify(envelope);
      if (Buffer.byteLength(body) > MAX_ENVELOPE_BYTES) {
        throw new AdapterError('PAYLOAD_TOO_LARGE', 'The mapped change is too large to queue', {
          details: { maxBytes: MAX_ENVELOPE_BYTES },
        });
      }
      const key = resolutionKey(connection, envelope.subject);
      if (key === undefined) throw new AdapterError('INTERNAL', 'Envelope lost its lookup key');
      try {
        const sent = await deps.queue.send(
          {
            body,
            groupId: messageGroupId(connection.id, key),
            deduplicationId: deduplicationId(connection.id, envelope.eventId),
            attributes: { connectionId: connection.id, eventType: envelope.eventType },
          },
          options.signal === undefined ? {} : { signal: options.signal },
        );
        results.push({ status: 'queued', eventId: envelope.eventId, messageId: sent.messageId });
      } catch (error) {
        if (isAdapterError(error)) throw error;
        // Nothing is acknowledged that was not stored: the sender retries, and the changes this
        // request did store are dropped as duplicates by SQS or the stale-event guard.
        throw new AdapterError('QUEUE_UNAVAILABLE', 'The change could not be queued', {
          cause: error,
        });
      }
    }
    return { results };
  };
