import { describe, expect, it } from 'vitest';
import { readEnv } from '../../lib/runtime/env.ts';

describe('runtime/env', () => {
  it('gives the defaults for an empty environment, and treats empty strings as unset', () => {
    const env = readEnv({ CIAM_ENDPOINT: '', QUEUE_URL: '' });
    expect(env).toEqual({
      configPath: undefined,
      ciamEndpoint: undefined,
      credentialsSecretName: undefined,
      secretsFile: undefined,
      queueUrl: undefined,
      deadLetterQueueUrl: undefined,
      rateLimit: { perSecond: 20, maxWaitMs: 2000 },
      queue: { maxReceiveCount: 5, settleSeconds: 60 },
      extension: { expected: false, port: 2773, sessionToken: undefined },
    });
  });

  it('reads every variable into its typed place', () => {
    const env = readEnv({
      ADAPTER_CONFIG: 'config/production.json',
      CIAM_ENDPOINT: 'http://127.0.0.1:3100',
      CIAM_CREDENTIALS_SECRET_NAME: 'stage/ciam',
      ADAPTER_SECRETS_FILE: 'secrets.json',
      QUEUE_URL: 'https://sqs/q.fifo',
      DLQ_URL: 'https://sqs/dlq.fifo',
      CIAM_RATE_LIMIT_PER_SECOND: '10.5',
      CIAM_RATE_LIMIT_MAX_WAIT_MS: '0',
      QUEUE_MAX_RECEIVE_COUNT: '1000',
      QUEUE_SETTLE_SECONDS: '0',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '65535',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(env).toMatchObject({
      configPath: 'config/production.json',
      ciamEndpoint: 'http://127.0.0.1:3100',
      credentialsSecretName: 'stage/ciam',
      secretsFile: 'secrets.json',
      queueUrl: 'https://sqs/q.fifo',
      deadLetterQueueUrl: 'https://sqs/dlq.fifo',
      rateLimit: { perSecond: 10.5, maxWaitMs: 0 },
      queue: { maxReceiveCount: 1000, settleSeconds: 0 },
      extension: { expected: true, port: 65_535, sessionToken: 'token' },
    });
  });

  it('expects the extension where its port is set, even outside Lambda', () => {
    expect(readEnv({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773' }).extension.expected).toBe(
      true,
    );
  });

  it('reports every invalid variable at once, not only the first', () => {
    let thrown: unknown;
    try {
      readEnv({
        CIAM_RATE_LIMIT_PER_SECOND: 'fast',
        CIAM_RATE_LIMIT_MAX_WAIT_MS: '-1',
        QUEUE_MAX_RECEIVE_COUNT: '2.5',
        QUEUE_SETTLE_SECONDS: '99999',
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '0',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'CONFIG_INVALID',
      details: [
        { name: 'CIAM_RATE_LIMIT_PER_SECOND', message: 'must be a number from 0.1 to 1000000' },
        { name: 'CIAM_RATE_LIMIT_MAX_WAIT_MS', message: 'must be an integer from 0 to 900000' },
        { name: 'QUEUE_MAX_RECEIVE_COUNT', message: 'must be an integer from 1 to 1000' },
        { name: 'QUEUE_SETTLE_SECONDS', message: 'must be an integer from 0 to 43200' },
        {
          name: 'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT',
          message: 'must be an integer from 1 to 65535',
        },
      ],
    });
    expect((thrown as Error).message).toContain('5 problems');
  });
});
