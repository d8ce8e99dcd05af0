import type { HttpFetch, HttpResponse } from '../fetch.ts';
import {
  createCachedSecretSource,
  type SecretValue,
  secretUnavailable,
  secretValueFromSecretString,
} from './cached-source.ts';
import type { SecretSource } from './types.ts';

export interface ExtensionSecretSourceOptions {
  /** PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: the extension's port on localhost (its default 2773). */
  port: number;
  /** AWS_SESSION_TOKEN: the extension answers only requests that carry it. */
  token: string;
  fetch: HttpFetch;
  /** Epoch milliseconds. */
  now: () => number;
  /**
   * An uncached read straight from Secrets Manager (the SDK, loaded on first use). Used when the
   * extension is not running (the layer is not attached, or outside Lambda), and for the first
   * read after `invalidate`: the extension keeps its own cache (SECRETS_MANAGER_TTL, at most
   * 300 s), so after a rotation it may still hold the old value.
   */
  readDirect: (name: string) => Promise<SecretValue>;
  /** Called once, when the extension is found not to be running and reads switch to `readDirect`. */
  onUnavailable?: () => void;
  /**
   * In-process cache in front of the extension's. Default 60 s: a hit costs nothing, a miss one
   * loopback request, and a rotation reaches this instance within this plus the extension's TTL.
   */
  ttlMs?: number;
  /** Per request to the extension. Default 2 s; on a miss it calls Secrets Manager itself. */
  timeoutMs?: number;
}

const DEFAULT_TTL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 2_000;

const isConnectionRefused = (error: unknown): boolean => {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return code === 'ECONNREFUSED' || cause?.code === 'ECONNREFUSED';
};

/**
 * Secrets through the AWS Parameters and Secrets Lambda Extension (a layer, serverless.yml):
 * `GET http://localhost:<port>/secretsmanager/get?secretId=<name or ARN>` answers GetSecretValue's
 * JSON. Why not the SDK: the Secrets Manager client with its `@smithy` stack was about a third of
 * the webhook function's bundle and init CPU; the extension is a separate process with
 * its own cache, and this function only makes a loopback HTTP request.
 */
export const createExtensionSecretSource = ({
  port,
  token,
  fetch,
  now,
  readDirect,
  onUnavailable,
  ttlMs = DEFAULT_TTL_MS,
  timeoutMs = DEFAULT_TIMEOUT_MS,
}: ExtensionSecretSourceOptions): SecretSource => {
  let extensionRunning = true;
  const refreshDirect = new Set<string>();

  const readFromExtension = async (name: string): Promise<SecretValue> => {
    let response: HttpResponse;
    try {
      response = await fetch(
        `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(name)}`,
        {
          headers: { 'x-aws-parameters-secrets-token': token },
          signal: AbortSignal.timeout(timeoutMs),
        },
      );
    } catch (error) {
      if (!isConnectionRefused(error)) {
        throw secretUnavailable(
          name,
          undefined,
          'could not be read from the Parameters and Secrets extension',
          error,
        );
      }
      // Nothing listens: the layer is not attached. Stop asking for this instance's lifetime.
      extensionRunning = false;
      onUnavailable?.();
      return readDirect(name);
    }
    // The body is read whatever the status, so the keep-alive socket can be reused.
    const text = await response.text();
    if (response.status !== 200) {
      // The extension passes Secrets Manager's error on; the body is not quoted (it is the
      // service's message, but nothing an operator needs beyond the status and the name).
      throw secretUnavailable(
        name,
        undefined,
        text.includes('ResourceNotFoundException')
          ? 'was not found'
          : `could not be read from the Parameters and Secrets extension (HTTP ${response.status})`,
      );
    }
    let secretString: unknown;
    try {
      ({ SecretString: secretString } = JSON.parse(text) as { SecretString?: unknown });
    } catch {
      throw secretUnavailable(name, undefined, 'was answered with a malformed extension response');
    }
    return secretValueFromSecretString(name, secretString);
  };

  const cached = createCachedSecretSource(
    async (name) => {
      if (!extensionRunning) return readDirect(name);
      if (refreshDirect.has(name)) {
        const value = await readDirect(name);
        // Only once the fresh read worked: a failed one is retried fresh as well.
        refreshDirect.delete(name);
        return value;
      }
      return readFromExtension(name);
    },
    { now, ttlMs },
  );

  return {
    getString: (ref) => cached.getString(ref),
    getJson: (name) => cached.getJson(name),
    invalidate(name) {
      refreshDirect.add(name);
      cached.invalidate(name);
    },
  };
};
