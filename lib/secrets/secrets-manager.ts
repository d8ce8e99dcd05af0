import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerSdk } from '../aws/sdk.ts';
import {
  createCachedSecretSource,
  type SecretValue,
  secretUnavailable,
  secretValueFromSecretString,
} from './cached-source.ts';
import type { SecretSource } from './types.ts';

export interface SecretsManagerSourceOptions {
  /** Default: a client for the function's own region and role. */
  client?: SecretsManagerClient;
  /** Epoch milliseconds. */
  now: () => number;
  /** Default 5 minutes: short enough to pick up a rotation, long enough to spare the API. */
  ttlMs?: number;
}

const DEFAULT_TTL_MS = 300_000;

/** The only module that talks to AWS Secrets Manager (GetSecretValue by name or ARN). */
export const createSecretsManagerSource = ({
  client,
  now,
  ttlMs = DEFAULT_TTL_MS,
}: SecretsManagerSourceOptions): SecretSource =>
  createCachedSecretSource(readFromSecretsManager(client), { now, ttlMs });

/**
 * One uncached GetSecretValue, as a SecretValue or SECRET_UNAVAILABLE. The SDK is loaded on the
 * first read (lib/aws/sdk.ts), and the default client is made then too.
 */
export const readFromSecretsManager = (
  given?: SecretsManagerClient,
): ((name: string) => Promise<SecretValue>) => {
  let client = given;
  return async (name) => {
    let secretString: string | undefined;
    try {
      // Inside the try: a runtime without the SDK is a secret that cannot be read, not a crash.
      const sdk = secretsManagerSdk();
      client ??= new sdk.SecretsManagerClient({});
      ({ SecretString: secretString } = await client.send(
        new sdk.GetSecretValueCommand({ SecretId: name }),
      ));
    } catch (error) {
      const reason =
        (error as { name?: unknown } | null)?.name === 'ResourceNotFoundException'
          ? 'was not found'
          : 'could not be read from Secrets Manager';
      throw secretUnavailable(name, undefined, reason, error);
    }
    return secretValueFromSecretString(name, secretString);
  };
};
