// The one lib file that knows middy: each webhook step is a small named middleware so middy's
// plugin hooks can time them, and the order is visible where the chain is composed.
import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { AdapterError } from '../errors.ts';
import type { InboundRequest, SourceContext } from '../sources/types.ts';
import type { PreparedConnection } from '../webhook/process.ts';
import { assertJsonContentType, toInboundRequest } from './request.ts';
import { errorResponse, jsonResponse, toAdapterError } from './response.ts';

/** Middy's way to hand middleware results to the handler is the context (cf. setToContext). */
export interface WebhookContext extends Context {
  prepared?: PreparedConnection;
  inbound?: InboundRequest;
}

export type WebhookRequest = Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  WebhookContext
>;

type WebhookMiddleware = MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  WebhookContext
>;

/** Reads what earlier middlewares stored; a missing piece is a wiring bug, not bad input. */
export const stateOf = (
  context: WebhookContext,
): { prepared: PreparedConnection; inbound: InboundRequest } => {
  const { prepared, inbound } = context;
  if (prepared === undefined || inbound === undefined) {
    throw new AdapterError('INTERNAL', 'Webhook middleware chain is incomplete');
  }
  return { prepared, inbound };
};

export const connectionMiddleware = (
  connections: ReadonlyMap<string, PreparedConnection>,
  onFound: (prepared: PreparedConnection) => void = () => {},
): WebhookMiddleware => ({
  name: 'connection',
  before: function connectionBefore(request) {
    const id = request.event.pathParameters?.connectionId ?? '';
    const prepared = connections.get(id);
    if (prepared === undefined) {
      throw new AdapterError('CONNECTION_NOT_FOUND', 'No such connection');
    }
    request.context.prepared = prepared;
    onFound(prepared);
  },
});

/**
 * Captures the raw bytes before the JSON parser replaces `event.body`, and answers the GET
 * handshake (Okta) without going further down the chain.
 */
export const rawBodyMiddleware = (sourceContext: () => SourceContext): WebhookMiddleware => ({
  name: 'raw-body',
  before: async function rawBodyBefore(request) {
    const inbound = toInboundRequest(request.event);
    request.context.inbound = inbound;
    const { prepared } = request.context;
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

export const authenticateMiddleware = (sourceContext: () => SourceContext): WebhookMiddleware => ({
  name: 'authenticate',
  before: async function authenticateBefore(request) {
    const { prepared, inbound } = stateOf(request.context);
    await prepared.source.authenticate(inbound, sourceContext());
    // Checked after authentication so unauthenticated callers learn nothing about the format.
    assertJsonContentType(inbound);
  },
});

export type ErrorReporter = (error: AdapterError, request: WebhookRequest) => void;

/** Last `.use()`, so first on error: every failure leaves as JSON with a stable code. */
export const errorMiddleware = (report: ErrorReporter): WebhookMiddleware => ({
  name: 'error-response',
  onError: function errorResponseOnError(request) {
    if (request.response !== undefined && request.response !== null) return;
    const error = toAdapterError(request.error);
    report(error, request);
    request.response = errorResponse(error);
  },
});
