import { createRequire } from 'node:module';
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type * as SqsSdk from '@aws-sdk/client-sqs';

/**
 * The AWS SDK v3 clients are loaded on first use and are NOT bundled. Why: with `@smithy` they
 * were ~345 kB of the webhook function's ~970 kB bundle and a large share of its init CPU
 * (issue 9), while the adapter needs them only off the hot path: Secrets Manager as the fallback
 * when the Parameters and Secrets extension is not there (lib/secrets/lambda-extension.ts), SQS
 * only for queued connections and the queue consumer.
 *
 * Where they come from: in Lambda, the Node.js runtime ships AWS SDK v3 under
 * /var/runtime/node_modules, which is on NODE_PATH; locally and in tests, this repository's
 * node_modules (the versions pinned in package.json). `require` from `createRequire` honours
 * NODE_PATH (an ESM `import()` would not) and, being a local function rather than the global
 * `require`, is left alone by esbuild, so nothing of the SDK lands in the bundle.
 */
const requireAtRuntime = createRequire(import.meta.url);

let secretsManager: typeof SecretsManagerSdk | undefined;
let sqs: typeof SqsSdk | undefined;

export const secretsManagerSdk = (): typeof SecretsManagerSdk => {
  secretsManager ??= requireAtRuntime(
    '@aws-sdk/client-secrets-manager',
  ) as typeof SecretsManagerSdk;
  return secretsManager;
};

export const sqsSdk = (): typeof SqsSdk => {
  sqs ??= requireAtRuntime('@aws-sdk/client-sqs') as typeof SqsSdk;
  return sqs;
};
