// The webhook chain's own steps, each a small named middleware so middy's plugin hooks can time
// them and the order is visible where the chain is composed.
import { AdapterError } from '../errors.ts';
import type { HttpContext, HttpMiddleware } from '../http/middleware.ts';
import {
  assertJsonContentType,
  bodyText,
  type InboundRequest,
  toInboundRequest,
} from '../http/request.ts';
import { jsonResponse } from '../http/response.ts';
import type { SourceContext } from '../sources/types.ts';
import type { PreparedConnection } from './process.ts';

export interface WebhookContext extends HttpContext<PreparedConnection> {
  inbound?: InboundRequest;
}

type WebhookMiddleware = HttpMiddleware<WebhookContext>;

/** Reads what earlier middlewares stored; a missing piece is a wiring bug, not bad input. */
export const stateOf = (
  context: WebhookContext,
): { prepared: PreparedConnection; inbound: InboundRequest } => {
  const { connection, inbound } = context;
  if (connection === undefined || inbound === undefined) {
    throw new AdapterError('INTERNAL', 'Webhook middleware chain is incomplete');
  }
  return { prepared: connection, inbound };
};

/**
 * Captures the raw bytes the signature covers, and answers the GET handshake (Okta) without going
 * further down the chain.
 */
export const rawBodyMiddleware = (sourceContext: () => SourceContext): WebhookMiddleware => ({
  name: 'raw-body',
  before: async function rawBodyBefore(request) {
    const inbound = toInboundRequest(request.event);
    request.context.inbound = inbound;
    const prepared = request.context.connection;
    if (inbound.method === 'GET' && prepared?.source.handshake !== undefined) {
      const reply = await prepared.source.handshake(inbound, sourceContext());
      return jsonResponse(reply.statusCode, reply.body);
    }
    if (inbound.method !== 'POST') {
      throw new AdapterError('METHOD_NOT_ALLOWED', 'Use POST', {
        headers: { allow: prepared?.source.handshake === undefined ? 'POST' : 'GET, POST' },
      });
    }
    return undefined;
  },
});

/**
 * Verifies the sender over the raw bytes, then hands those very bytes, decoded once, to the JSON
 * body parser that runs next: `event.body` becomes their text (and no longer base64), so what is
 * parsed is exactly what was verified.
 */
export const authenticateMiddleware = (sourceContext: () => SourceContext): WebhookMiddleware => ({
  name: 'authenticate',
  before: async function authenticateBefore(request) {
    const { prepared, inbound } = stateOf(request.context);
    await prepared.source.authenticate(inbound, sourceContext());
    // Checked after authentication so unauthenticated callers learn nothing about the format.
    assertJsonContentType(inbound);
    request.event.body = bodyText(inbound.rawBody);
    request.event.isBase64Encoded = false;
  },
});
