import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createCiamClient } from '../lib/ciam/client.ts';
import { createUserResolver } from '../lib/ciam/resolve.ts';
import { loadConfig } from '../lib/config/load.ts';
import { AdapterError } from '../lib/errors.ts';
import {
  authenticateMiddleware,
  connectionMiddleware,
  errorMiddleware,
  rawBodyMiddleware,
  stateOf,
  type WebhookContext,
} from '../lib/http/middleware.ts';
import { jsonResponse } from '../lib/http/response.ts';
import { createFileSecretSource } from '../lib/secrets/file.ts';
import { createSecretsManagerSource } from '../lib/secrets/secrets-manager.ts';
import { createTencentCredentials } from '../lib/secrets/tencent-credentials.ts';
import type { SecretSource } from '../lib/secrets/types.ts';
import { SOURCE_OPTION_SCHEMAS, SOURCES } from '../lib/sources/registry.ts';
import type { SourceContext } from '../lib/sources/types.ts';
import { createTencentClient } from '../lib/tencent/client.ts';
import { createSyncDelivery, type Deliver } from '../lib/webhook/delivery.ts';
import { prepareConnections } from '../lib/webhook/prepare.ts';
import { type PreparedConnection, processWebhook } from '../lib/webhook/process.ts';

export type Outcome = 'applied' | 'queued' | 'ignored' | string;

export interface WebhookDeps {
  connections: ReadonlyMap<string, PreparedConnection>;
  deliver: Deliver;
  secrets: SecretSource;
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
  /** Counts events by connection and outcome (an error code when it failed). */
  recordOutcome: (connectionId: string, outcome: Outcome, count: number) => void;
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

  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, WebhookContext>({
    timeoutEarlyInMillis: TIMEOUT_MARGIN_MS,
    timeoutEarlyResponse: () => {
      throw new AdapterError('DEADLINE_EXCEEDED', 'Ran out of time applying the change');
    },
  })
    .use(httpHeaderNormalizer())
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .use(
      connectionMiddleware(deps.connections, ({ connection }) =>
        deps.logger.appendKeys({ connectionId: connection.id, source: connection.source }),
      ),
    )
    .use(rawBodyMiddleware(() => sourceContext()))
    .use(authenticateMiddleware(() => sourceContext()))
    .use(httpJsonBodyParser(JSON_PARSER_OPTIONS))
    .use(
      errorMiddleware((error, request) => {
        const connectionId = request.context.prepared?.connection.id ?? 'unknown';
        deps.recordOutcome(connectionId, error.code, 1);
        const upstream = error as AdapterError & { upstreamCode?: string; requestId?: string };
        const fields = {
          code: error.code,
          statusCode: error.statusCode,
          upstreamCode: upstream.upstreamCode,
          upstreamRequestId: upstream.requestId,
        };
        if (error.statusCode >= 500) {
          deps.logger.error('webhook failed', { ...fields, error: error.cause ?? error });
        } else {
          deps.logger.warn('webhook refused', fields);
        }
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
      );
      const id = prepared.connection.id;
      for (const [name, count] of Object.entries(outcome.counts)) {
        if (count > 0) deps.recordOutcome(id, name, count);
      }
      deps.logger.info('webhook processed', {
        status: outcome.body.status,
        eventIds: outcome.eventIds,
        subjects: outcome.subjects,
        upstream: outcome.body.requestId ?? outcome.body.results,
      });
      return jsonResponse(outcome.statusCode, outcome.body);
    });
};

const metricsOutcome =
  (metrics: Metrics) => (connectionId: string, outcome: string, count: number) => {
    // One EMF blob per outcome: dimensions differ per event, so the shared instance cannot batch them.
    const single = metrics.singleMetric();
    single.addDimensions({ connection: connectionId, outcome });
    single.addMetric('Events', MetricUnit.Count, count);
  };

/**
 * The composition root: the only place that reads `process.env`. Secrets come from Secrets
 * Manager, or, for local development only, from the file named by ADAPTER_SECRETS_FILE.
 */
export const defaultDeps = (env: Record<string, string | undefined> = process.env): WebhookDeps => {
  const now = () => Date.now();
  const config = loadConfig(env, {
    readFile: (path) => readFileSync(path, 'utf8'),
    sourceOptionSchemas: SOURCE_OPTION_SCHEMAS,
  });
  const secrets: SecretSource =
    env.ADAPTER_SECRETS_FILE !== undefined && env.ADAPTER_SECRETS_FILE !== ''
      ? createFileSecretSource({ path: env.ADAPTER_SECRETS_FILE })
      : createSecretsManagerSource({ client: new SecretsManagerClient({}), now });
  const tencent = createTencentClient({
    fetch: globalThis.fetch,
    now,
    credentials: createTencentCredentials(secrets, config.ciam.credentials.name),
    endpoint: config.ciam.endpoint,
    region: config.ciam.region,
    timeoutMs: config.ciam.timeoutMs,
  });
  const ciam = createCiamClient(tencent);
  return {
    connections: prepareConnections(config, SOURCES, { queued: false }),
    deliver: createSyncDelivery({ ciam, resolver: createUserResolver({ ciam, now }) }),
    secrets,
    fetch: globalThis.fetch,
    now,
    logger: new Logger({ serviceName: 'ciam-webhook-adapter' }),
    recordOutcome: metricsOutcome(new Metrics({ serviceName: 'ciam-webhook-adapter' })),
  };
};

export const handler = createHandler(defaultDeps());
