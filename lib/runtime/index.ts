import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createCiamClient } from '../ciam/client.ts';
import { createUserResolver, type UserResolver } from '../ciam/resolve.ts';
import type { CiamApi } from '../ciam/types.ts';
import { loadConfig } from '../config/load.ts';
import type { AdapterConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { HttpFetch } from '../fetch.ts';
import { createKeepAliveFetch } from '../http/keep-alive-fetch.ts';
import { metricsOutcome, type RecordOutcome } from '../metrics.ts';
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_SETTLE_SECONDS,
  type QueueSettings,
} from '../queue/consumer.ts';
import { createSqsQueue, type SqsQueueOptions } from '../queue/sqs.ts';
import type { QueuePort } from '../queue/types.ts';
import { createFileSecretSource } from '../secrets/file.ts';
import { createExtensionSecretSource } from '../secrets/lambda-extension.ts';
import {
  createSecretsManagerSource,
  readFromSecretsManager,
  type SecretsManagerSourceOptions,
} from '../secrets/secrets-manager.ts';
import { createTencentCredentials } from '../secrets/tencent-credentials.ts';
import type { SecretSource } from '../secrets/types.ts';
import { createTencentClient, type TencentClient } from '../tencent/client.ts';

/** The environment variables the adapter reads; names and paths only, never secret values. */
export type RuntimeEnv = Readonly<Record<string, string | undefined>>;

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
  tencent: TencentClient;
  ciam: CiamApi;
  resolver: UserResolver;
  /** The FIFO queue of queued delivery; undefined when none is configured. */
  queue: QueuePort | undefined;
  deadLetterQueue: QueuePort | undefined;
  /** How the queue consumer's queue is set up (QUEUE_MAX_RECEIVE_COUNT). */
  queueSettings: QueueSettings;
  logger: Logger;
  recordOutcome: RecordOutcome;
}

const SERVICE_NAME = 'ciam-webhook-adapter';

/**
 * A numeric setting from the environment: absent means the default; anything else out of range
 * fails the cold start, since a typo here would quietly change how hard CIAM is driven.
 */
const numberSetting = (
  env: RuntimeEnv,
  name: string,
  fallback: number,
  [min, max]: readonly [number, number],
  integer = true,
): number => {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (
    !Number.isFinite(number) ||
    (integer && !Number.isInteger(number)) ||
    number < min ||
    number > max
  ) {
    throw new ConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
    );
  }
  return number;
};

/**
 * Per-instance pacing of CIAM calls. CIAM allows 20 requests/second per action in all; the queue
 * consumer runs 2 instances at 10/s each (serverless.yml sets CIAM_RATE_LIMIT_PER_SECOND), and a
 * synchronous caller waits at most CIAM_RATE_LIMIT_MAX_WAIT_MS before it is answered 429.
 */
const rateLimitOf = (env: RuntimeEnv) => ({
  perSecond: numberSetting(env, 'CIAM_RATE_LIMIT_PER_SECOND', 20, [0.1, 1_000_000], false),
  maxWaitMs: numberSetting(env, 'CIAM_RATE_LIMIT_MAX_WAIT_MS', 2000, [0, 900_000]),
});

/**
 * QUEUE_MAX_RECEIVE_COUNT must equal the redrive policy's maxReceiveCount (serverless.yml): the
 * consumer dead-letters on that receive itself, with the reason. SQS accepts 1 to 1000.
 */
const queueSettingsOf = (env: RuntimeEnv): QueueSettings => ({
  maxReceiveCount: numberSetting(
    env,
    'QUEUE_MAX_RECEIVE_COUNT',
    DEFAULT_MAX_RECEIVE_COUNT,
    [1, 1000],
  ),
  settleSeconds: numberSetting(env, 'QUEUE_SETTLE_SECONDS', DEFAULT_SETTLE_SECONDS, [0, 43_200]),
});

const chooseQueue = (
  url: string | undefined,
  given: QueuePort | undefined,
  client: SqsQueueOptions['client'],
): QueuePort | undefined => {
  if (given !== undefined) return given;
  if (url === undefined || url === '') return undefined;
  return createSqsQueue({ queueUrl: url, ...(client === undefined ? {} : { client }) });
};

const EXTENSION_DEFAULT_PORT = 2773;

/**
 * Where secrets come from. In Lambda (or wherever PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is set):
 * the Parameters and Secrets extension, falling back to the Secrets Manager SDK when it is not
 * running. Elsewhere: the SDK. Tests inject a source or an SDK client; `npm start` a file.
 */
const chooseSecrets = (
  env: RuntimeEnv,
  overrides: RuntimeOverrides,
  now: () => number,
  fetchImpl: HttpFetch,
  logger: Logger,
): SecretSource => {
  if (overrides.secrets !== undefined) return overrides.secrets;
  // Local development only: a JSON file standing in for Secrets Manager.
  const file = env.ADAPTER_SECRETS_FILE;
  if (file !== undefined && file !== '') return createFileSecretSource({ path: file });
  const client = overrides.secretsManagerClient;
  const token = env.AWS_SESSION_TOKEN;
  const extensionExpected =
    (env.AWS_LAMBDA_FUNCTION_NAME ?? env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) !== undefined;
  if (client === undefined && extensionExpected && token !== undefined && token !== '') {
    return createExtensionSecretSource({
      port: numberSetting(
        env,
        'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
        EXTENSION_DEFAULT_PORT,
        [1, 65_535],
      ),
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
 * The composition root, and with `loadConfig` the only reader of the environment. Handlers call it
 * once at module scope; tests and `npm start` call it with overrides instead of editing
 * `process.env` or replacing SDK classes.
 */
export const createRuntime = (env: RuntimeEnv, overrides: RuntimeOverrides = {}): Runtime => {
  const now = overrides.now ?? Date.now;
  const fetchImpl = overrides.fetch ?? createKeepAliveFetch();
  const config = loadConfig(env, {
    readFile: overrides.readFile ?? ((path) => readFileSync(path, 'utf8')),
  });
  const logger = overrides.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const secrets = chooseSecrets(env, overrides, now, fetchImpl, logger);
  const tencent = createTencentClient({
    fetch: fetchImpl,
    now,
    credentials: createTencentCredentials(secrets, config.ciam.credentials.name),
    endpoint: config.ciam.endpoint,
    region: config.ciam.region,
    timeoutMs: config.ciam.timeoutMs,
    rateLimit: rateLimitOf(env),
  });
  const ciam = createCiamClient(tencent);
  return {
    config,
    now,
    fetch: fetchImpl,
    secrets,
    tencent,
    ciam,
    resolver: createUserResolver({ ciam, now }),
    queue: chooseQueue(env.QUEUE_URL, overrides.queue, overrides.sqsClient),
    deadLetterQueue: chooseQueue(env.DLQ_URL, overrides.deadLetterQueue, overrides.sqsClient),
    queueSettings: queueSettingsOf(env),
    logger,
    recordOutcome:
      overrides.recordOutcome ?? metricsOutcome(new Metrics({ serviceName: SERVICE_NAME })),
  };
};
