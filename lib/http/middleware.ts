// The middleware every HTTP chain shares (webhook and SCIM): find the connection the path names,
// and answer every failure with a stable code. Chain-specific steps live beside each chain.
import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { AdapterError } from '../errors.ts';
import { type HttpResult, toAdapterError } from './response.ts';

/** Middy's way to hand middleware results to the handler is the context (cf. setToContext). */
export interface HttpContext<C> extends Context {
  /** What the chain prepared at cold start for the connection the path names. */
  connection?: C;
}

export type HttpRequest<Ctx extends Context> = Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Ctx
>;

export type HttpMiddleware<Ctx extends Context> = MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Ctx
>;

/** What a chain's context holds for the connection the path names. */
export type ConnectionOf<Ctx> = Ctx extends HttpContext<infer C> ? C : never;

/** Looks up `{connectionId}` among the connections prepared at cold start. */
export const connectionMiddleware = <Ctx extends HttpContext<unknown>>(
  connections: ReadonlyMap<string, ConnectionOf<Ctx>>,
  onFound: (connection: ConnectionOf<Ctx>, id: string) => void = () => {},
): HttpMiddleware<Ctx> => ({
  name: 'connection',
  before: function connectionBefore(request) {
    const id = request.event.pathParameters?.connectionId ?? '';
    const connection = connections.get(id);
    if (connection === undefined) {
      throw new AdapterError('CONNECTION_NOT_FOUND', 'No such connection');
    }
    request.context.connection = connection;
    onFound(connection, id);
  },
});

export type ErrorReporter<Ctx extends Context> = (
  error: AdapterError,
  request: HttpRequest<Ctx>,
) => void;

/**
 * Last `.use()`, so first on error: every failure leaves in the chain's own error format (`respond`)
 * with a stable code, after `report` has logged and counted it.
 */
export const errorMiddleware = <Ctx extends Context>(
  respond: (error: AdapterError) => HttpResult,
  report: ErrorReporter<Ctx>,
): HttpMiddleware<Ctx> => ({
  name: 'error-response',
  onError: function errorResponseOnError(request) {
    if (request.response !== undefined && request.response !== null) return;
    const error = toAdapterError(request.error);
    report(error, request);
    request.response = respond(error);
  },
});
