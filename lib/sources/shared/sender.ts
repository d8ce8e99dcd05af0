/**
 * The other side of each source's verification: what its sender puts on a delivery. Used by
 * `npm run demo`, `npm run events` and the tests, never by a handler, so that signing code cannot
 * grow a deployed bundle.
 */

/** One delivery as its sender signs it. */
export interface OutgoingDelivery {
  /** The exact bytes sent; signatures cover these, not a re-serialisation. */
  body: string | Uint8Array;
  /** The signing secret, token or shared header value, as the sender holds it. */
  secret: string;
  /** Epoch milliseconds the sender stamps (signed timestamps). */
  nowMs: number;
  /** The sender's message id, for senders that put one in a header. */
  eventId?: string;
}

/** Header name → value, as the sender sends them (names as the source documents them). */
export type DeliveryHeaders = Record<string, string>;

/**
 * Signs one delivery as the sender of a connection with these options would: the connection's
 * `options`, of which a sender reads the few that shape what it sends.
 */
export type SignDelivery<Options = Record<string, unknown>> = (
  delivery: OutgoingDelivery,
  options?: Options,
) => DeliveryHeaders;
