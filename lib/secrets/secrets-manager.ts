import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createCachedSecretSource, parseSecretText, secretUnavailable } from './cached-source.ts';
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
  client = new SecretsManagerClient({}),
  now,
  ttlMs = DEFAULT_TTL_MS,
}: SecretsManagerSourceOptions): SecretSource =>
  createCachedSecretSource(
    async (name) => {
      let secretString: string | undefined;
      try {
        ({ SecretString: secretString } = await client.send(
          new GetSecretValueCommand({ SecretId: name }),
        ));
      } catch (error) {
        const reason =
          (error as { name?: unknown } | null)?.name === 'ResourceNotFoundException'
            ? 'was not found'
            : 'could not be read from Secrets Manager';
        throw secretUnavailable(name, undefined, reason, error);
      }
      if (secretString === undefined) {
        throw secretUnavailable(
          name,
          undefined,
          'has no SecretString (binary secrets are unsupported)',
        );
      }
      return parseSecretText(secretString);
    },
    { now, ttlMs },
  );
