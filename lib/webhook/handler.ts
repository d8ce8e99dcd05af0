// The webhook function's middy chain. Side-effect free: `handlers/webhook.ts` builds it once from
// the runtime; tests build it from fakes.
import { type Logger, LogLevelThreshold } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Deliver } from '../delivery/delivery.ts';
import { AdapterError } from '../errors.ts';
import type { HttpFetch } from '../fetch.ts';
import { connectionMiddleware, errorMiddleware } from '../http/middleware.ts';
import { errorResponse, jsonResponse } from '../http/response.ts';
import { sourceIpMiddleware } from '../http/source-ip.ts';
import { logFailure } from '../log/failures.ts';
import type { RecordOutcome } from '../metrics.ts';
import type { SecretSource } from '../secrets/types.ts';
import type { SourceContext } from '../sources/types.ts';
import {
  authenticateMiddleware,
  rawBodyMiddleware,
  stateOf,
  type WebhookContext,
} from './middleware.ts';
import { type PreparedConnection, processWebhook } from './process.ts';

export interface WebhookDeps {
  connections: ReadonlyMap<string, PreparedConnection>;
  deliver: Deliver;
  secrets: SecretSource;
  fetch: HttpFetch;
  now: () => number;
  logger: Logger;
  recordOutcome: RecordOutcome;
}

/**
 * Our content-type check already ran (case-insensitive, as media types are); middy's pattern is
 * case-sensitive, so it is switched off. 6.4.5 reads `disableContentTypeCheck` but its typings
 * omit it, hence a variable rather than a literal.
 */
const JSON_PARSER_OPTIONS = { disableContentTypeError: false, disableContentTypeCheck: true };

/** Leaves time to answer before API Gateway's 30 s limit cuts the connection. */
const TIMEOUT_MARGIN_MS = 750;

export const createHandler = (deps: WebhookDeps) => {
  const sourceContext = (signal?: AbortSignal): SourceContext => ({
    secrets: deps.secrets,
    fetch: deps.fetch,
    now: deps.now,
    ...(signal === undefined ? {} : { signal }),
  });

  return (
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, WebhookContext>({
      timeoutEarlyInMillis: TIMEOUT_MARGIN_MS,
      timeoutEarlyResponse: () => {
        throw new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time applying the change');
      },
    })
      .use(httpHeaderNormalizer())
      .use(injectLambdaContext(deps.logger, { resetKeys: true }))
      .use(
        connectionMiddleware<WebhookContext>(deps.connections, ({ connection }) =>
          deps.logger.appendKeys({ connectionId: connection.id, source: connection.source }),
        ),
      )
      .use(
        sourceIpMiddleware<WebhookContext>(
          deps.connections,
          (prepared) => prepared.connection.allowedSourceIps,
          (sourceIp) => deps.logger.appendKeys({ sourceIp }),
        ),
      )
      .use(rawBodyMiddleware(() => sourceContext()))
      .use(authenticateMiddleware(() => sourceContext()))
      // Parses the verified bytes, which authenticate has just put into `event.body` as text.
      .use(httpJsonBodyParser(JSON_PARSER_OPTIONS))
      .use(
        errorMiddleware<WebhookContext>(errorResponse, (error, request) => {
          deps.recordOutcome(request.context.connection?.connection.id ?? 'unknown', error.code, 1);
          logFailure(
            deps.logger,
            error.statusCode >= 500 ? 'webhook failed' : 'webhook refused',
            error,
          );
        }),
      )
      .handler(async (event, context, { signal }) => {
        const { prepared, inbound } = stateOf(context);
        const outcome = await processWebhook(
          prepared,
          event.body,
          inbound,
          sourceContext(signal),
          deps.deliver,
          event.requestContext?.requestId,
        );
        const id = prepared.connection.id;
        for (const [name, count] of Object.entries(outcome.counts)) {
          if (count > 0) deps.recordOutcome(id, name, count);
        }
        // Fields built only when INFO is printed (the level may change per invocation with log
        // sampling, so it is read here). The logger is made without log buffering, which would keep
        // filtered lines.
        if (!(deps.logger.level > LogLevelThreshold.INFO)) {
          deps.logger.info('webhook processed', {
            status: outcome.body.status,
            eventIds: outcome.eventIds,
            // Why changes were left out (`filtered`, `event_type_not_handled`…), never the values that
            // decided it.
            ...(outcome.ignored.length > 0 ? { ignored: outcome.ignored } : {}),
            subjects: outcome.subjects,
            upstream: outcome.body.requestId ?? outcome.body.results,
          });
        }
        return jsonResponse(outcome.statusCode, outcome.body);
      })
  );
};
