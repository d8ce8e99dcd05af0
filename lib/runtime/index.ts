import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../config/load.ts';
import type { AdapterConfig } from '../config/types.ts';
import type { HttpFetch } from '../fetch.ts';
import { createKeepAliveFetch } from '../http/keep-alive-fetch.ts';
import { metricsOutcome, type RecordOutcome } from '../metrics.ts';
import type { QueueSettings } from '../queue/consumer.ts';
import { createSqsQueue, type SqsQueueOptions } from '../queue/sqs.ts';
import type { QueuePort } from '../queue/types.ts';
import { createFileSecretSource } from '../secrets/file.ts';
import { createExtensionSecretSource } from '../secrets/lambda-extension.ts';
import {
  createSecretsManagerSource,
  readFromSecretsManager,
  type SecretsManagerSourceOptions,
} from '../secrets/secrets-manager.ts';
import type { SecretSource } from '../secrets/types.ts';
import { type AdapterEnv, type RuntimeEnv, readEnv } from './env.ts';
import { createTenants, type Tenants } from './tenants.ts';

export type { RuntimeEnv };

/** Everything a test or a local runner may replace; production passes none of it. */
export interface RuntimeOverrides {
  fetch?: HttpFetch;
  /** Epoch milliseconds. */
  now?: () => number;
  readFile?: (path: string) => string;
  /** A ready secret source (tests); otherwise Secrets Manager or ADAPTER_SECRETS_FILE. */
  secrets?: SecretSource;
  /** The Secrets Manager SDK client, e.g. one `aws-sdk-client-mock` fakes. */
  secretsManagerClient?: SecretsManagerSourceOptions['client'];
  /** The SQS SDK client, e.g. one `aws-sdk-client-mock` fakes. */
  sqsClient?: SqsQueueOptions['client'];
  /** Ready queues (the local FIFO queue of `npm start`); otherwise SQS from QUEUE_URL / DLQ_URL. */
  queue?: QueuePort;
  deadLetterQueue?: QueuePort;
  logger?: Logger;
  recordOutcome?: RecordOutcome;
}

/** What every handler builds from: one per Lambda instance, made at cold start. */
export interface Runtime {
  config: AdapterConfig;
  now: () => number;
  fetch: HttpFetch;
  secrets: SecretSource;
  /** Every CIAM target, built on first use: pick a connection's with `tenants.of(connection)`. */
  tenants: Tenants;
  /** The FIFO queue of queued delivery; undefined when none is configured. */
  queue: QueuePort | undefined;
  deadLetterQueue: QueuePort | undefined;
  /** How the queue consumer's queue is set up (QUEUE_MAX_RECEIVE_COUNT). */
  queueSettings: QueueSettings;
  logger: Logger;
  recordOutcome: RecordOutcome;
}

const SERVICE_NAME = 'ciam-webhook-adapter';

const chooseQueue = (
  url: string | undefined,
  given: QueuePort | undefined,
  client: SqsQueueOptions['client'],
): QueuePort | undefined => {
  if (given !== undefined) return given;
  if (url === undefined || url === '') return undefined;
  return createSqsQueue({ queueUrl: url, ...(client === undefined ? {} : { client }) });
};

/**
 * Where secrets come from. In Lambda (or wherever PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is set):
 * the Parameters and Secrets extension, falling back to the Secrets Manager SDK when it is not
 * running. Elsewhere: the SDK. Tests inject a source or an SDK client; `npm start` a file.
 */
const chooseSecrets = (
  env: AdapterEnv,
  overrides: RuntimeOverrides,
  now: () => number,
  fetchImpl: HttpFetch,
  logger: Logger,
): SecretSource => {
  if (overrides.secrets !== undefined) return overrides.secrets;
  // Local development only: a JSON file standing in for Secrets Manager.
  if (env.secretsFile !== undefined) return createFileSecretSource({ path: env.secretsFile });
  const client = overrides.secretsManagerClient;
  const token = env.extension.sessionToken;
  if (client === undefined && env.extension.expected && token !== undefined) {
    return createExtensionSecretSource({
      port: env.extension.port,
      token,
      fetch: fetchImpl,
      now,
      readDirect: readFromSecretsManager(),
      onUnavailable: () =>
        logger.warn(
          'Parameters and Secrets extension not running; reading secrets with the Secrets Manager SDK',
          { errorCode: 'SECRETS_EXTENSION_UNAVAILABLE' },
        ),
    });
  }
  return createSecretsManagerSource({ now, ...(client === undefined ? {} : { client }) });
};

/**
 * The composition root, and through `readEnv` the only reader of the environment. Handlers call it
 * once at module scope; tests and `npm start` call it with overrides instead of editing
 * `process.env` or replacing SDK classes.
 */
export const createRuntime = (variables: RuntimeEnv, overrides: RuntimeOverrides = {}): Runtime => {
  const env = readEnv(variables);
  const now = overrides.now ?? Date.now;
  const fetchImpl = overrides.fetch ?? createKeepAliveFetch();
  const config = loadConfig(env, {
    readFile: overrides.readFile ?? ((path) => readFileSync(path, 'utf8')),
  });
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const secrets = chooseSecrets(env, overrides, now, fetchImpl, logger);
  const tenants = createTenants({
    config,
    secrets,
    fetch: fetchImpl,
    now,
    rateLimit: env.rateLimit,
  });
  return {
    config,
    now,
    fetch: fetchImpl,
    secrets,
    tenants,
    queue: chooseQueue(env.queueUrl, overrides.queue, overrides.sqsClient),
    deadLetterQueue: chooseQueue(
      env.deadLetterQueueUrl,
      overrides.deadLetterQueue,
      overrides.sqsClient,
    ),
    queueSettings: env.queue,
    logger,
    recordOutcome:
      overrides.recordOutcome ?? metricsOutcome(new Metrics({ serviceName: SERVICE_NAME })),
  };
};
