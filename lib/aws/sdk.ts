import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type * as SqsSdk from '@aws-sdk/client-sqs';
import { requireOnFirstUse } from '../require-on-first-use.ts';

/**
 * The AWS SDK v3 clients are loaded on first use and are NOT bundled. Why: with `@smithy` they
 * were ~345 kB of the webhook function's ~970 kB bundle and a large share of its init CPU,
 * while the adapter needs them only off the hot path: Secrets Manager as the fallback
 * when the Parameters and Secrets extension is not there (lib/secrets/lambda-extension.ts), SQS
 * only for queued connections and the queue consumer.
 *
 * Where they come from: in Lambda, the Node.js runtime ships AWS SDK v3 under
 * /var/runtime/node_modules, which is on NODE_PATH; locally and in tests, this repository's
 * node_modules (the versions pinned in package.json). `require` from `createRequire` honours
 * NODE_PATH (an ESM `import()` would not) and is left alone by esbuild (requireOnFirstUse without a
 * bundled loader), so nothing of the SDK lands in the bundle.
 */
export const secretsManagerSdk = requireOnFirstUse<typeof SecretsManagerSdk>(
  '@aws-sdk/client-secrets-manager',
);

export const sqsSdk = requireOnFirstUse<typeof SqsSdk>('@aws-sdk/client-sqs');
