import { ConfigError } from '../errors.ts';
import { DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_SETTLE_SECONDS } from '../queue/consumer.ts';

/** The environment variables the adapter reads; names and paths only, never secret values. */
export type RuntimeEnv = Readonly<Record<string, string | undefined>>;

/** Everything the adapter takes from its environment, typed and checked. */
export interface AdapterEnv {
  /** ADAPTER_CONFIG: the connection config file. */
  configPath: string | undefined;
  /** CIAM_ENDPOINT: replaces the config's endpoint (the emulator locally). */
  ciamEndpoint: string | undefined;
  /** CIAM_CREDENTIALS_SECRET_NAME: replaces the config's credentials secret (per stage). */
  credentialsSecretName: string | undefined;
  /** ADAPTER_SECRETS_FILE: local development's stand-in for Secrets Manager. */
  secretsFile: string | undefined;
  queueUrl: string | undefined;
  deadLetterQueueUrl: string | undefined;
  /**
   * Per-instance pacing of CIAM calls. CIAM allows 20 requests/second per action in all; the
   * queue consumer runs 2 instances at 10/s each (serverless.yml sets CIAM_RATE_LIMIT_PER_SECOND),
   * and a synchronous caller waits at most CIAM_RATE_LIMIT_MAX_WAIT_MS before it is answered 429.
   */
  rateLimit: { perSecond: number; maxWaitMs: number };
  /**
   * QUEUE_MAX_RECEIVE_COUNT must equal the redrive policy's maxReceiveCount (serverless.yml): the
   * consumer dead-letters on that receive itself, with the reason. SQS accepts 1 to 1000.
   */
  queue: { maxReceiveCount: number; settleSeconds: number };
  /** The Parameters and Secrets extension: expected in Lambda, reached with the session token. */
  extension: { expected: boolean; port: number; sessionToken: string | undefined };
}

/** One thing wrong with the environment: the variable and what is wrong with it. */
export interface EnvProblem {
  name: string;
  message: string;
}

const EXTENSION_DEFAULT_PORT = 2773;

/**
 * Reads and checks every variable at once, so a cold start that fails names all of them, not the
 * first. A number out of range fails rather than falling back: a typo here would quietly change
 * how hard CIAM is driven. Empty strings count as unset, as serverless.yml leaves optional ones.
 */
export const readEnv = (env: RuntimeEnv): AdapterEnv => {
  const problems: EnvProblem[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const number = (
    name: string,
    fallback: number,
    [min, max]: readonly [number, number],
    integer = true,
  ): number => {
    const value = text(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (
      !Number.isFinite(parsed) ||
      (integer && !Number.isInteger(parsed)) ||
      parsed < min ||
      parsed > max
    ) {
      problems.push({
        name,
        message: `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      });
      return fallback;
    }
    return parsed;
  };

  const settings: AdapterEnv = {
    configPath: text('ADAPTER_CONFIG'),
    ciamEndpoint: text('CIAM_ENDPOINT'),
    credentialsSecretName: text('CIAM_CREDENTIALS_SECRET_NAME'),
    secretsFile: text('ADAPTER_SECRETS_FILE'),
    queueUrl: text('QUEUE_URL'),
    deadLetterQueueUrl: text('DLQ_URL'),
    rateLimit: {
      perSecond: number('CIAM_RATE_LIMIT_PER_SECOND', 20, [0.1, 1_000_000], false),
      maxWaitMs: number('CIAM_RATE_LIMIT_MAX_WAIT_MS', 2000, [0, 900_000]),
    },
    queue: {
      maxReceiveCount: number('QUEUE_MAX_RECEIVE_COUNT', DEFAULT_MAX_RECEIVE_COUNT, [1, 1000]),
      settleSeconds: number('QUEUE_SETTLE_SECONDS', DEFAULT_SETTLE_SECONDS, [0, 43_200]),
    },
    extension: {
      // Lambda sets AWS_LAMBDA_FUNCTION_NAME; setting the port elsewhere asks for the extension.
      expected:
        (env.AWS_LAMBDA_FUNCTION_NAME ?? env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) !== undefined,
      port: number('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', EXTENSION_DEFAULT_PORT, [1, 65_535]),
      sessionToken: text('AWS_SESSION_TOKEN'),
    },
  };
  if (problems.length > 0) {
    throw new ConfigError(
      `The environment is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map(({ name, message }) => `  ${name} ${message}`).join('\n'),
      { details: problems },
    );
  }
  return settings;
};
