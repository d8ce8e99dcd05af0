import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../emulator/server.ts';
import { createCiamClient } from '../../lib/ciam/client.ts';
import type { CiamApi } from '../../lib/ciam/types.ts';
import { createRuntime } from '../../lib/runtime.ts';
import { createTencentClient } from '../../lib/tencent/client.ts';
import { createHandler, type WebhookDeps, webhookDeps } from '../../lib/webhook/handler.ts';
import {
  type HttpApiHandler,
  type LocalRoute,
  type LocalServer,
  startLocalServer,
} from '../../local/http-api.ts';

export interface Stack {
  emulator: Emulator;
  server: LocalServer;
  deps: WebhookDeps;
  /** An independent CIAM client for assertions, with the emulator's demo credentials. */
  ciam: CiamApi;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Replaces config/local.json (written to a temp file). */
  config?: unknown;
  /** Replaces config/local-secrets.json (written to a temp file). */
  secrets?: unknown;
  /** Overrides applied to the default dependencies (e.g. a recording `recordOutcome`). */
  deps?: Partial<WebhookDeps>;
}

/** The webhook function's route as serverless.yml declares it. */
export const webhookRoute = (handler: HttpApiHandler): LocalRoute => ({
  method: 'ANY',
  path: '/webhooks/{connectionId}',
  handler,
  functionName: 'webhook',
  timeoutMs: 29_000,
});

export const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/**
 * The whole adapter as `npm start` runs it: emulator, real handler from its composition root,
 * local API Gateway over real HTTP.
 */
export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const emulator = await startEmulator({ port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'ciam-stack-'));
  const configPath = join(dir, 'config.json');
  const secretsPath = join(dir, 'secrets.json');
  writeFileSync(configPath, JSON.stringify(options.config ?? readJson('config/local.json')));
  writeFileSync(
    secretsPath,
    JSON.stringify(options.secrets ?? readJson('config/local-secrets.json')),
  );
  const env = {
    ADAPTER_CONFIG: configPath,
    ADAPTER_SECRETS_FILE: secretsPath,
    CIAM_ENDPOINT: emulator.url,
  };
  const deps = { ...webhookDeps(createRuntime(env)), ...options.deps };
  const handler = createHandler(deps) as unknown as HttpApiHandler;
  const server = await startLocalServer({ routes: [webhookRoute(handler)] });
  const ciam = createCiamClient(
    createTencentClient({
      fetch,
      now: Date.now,
      endpoint: emulator.url,
      credentials: {
        get: async () => ({ secretId: 'AKIDlocaldemo', secretKey: 'localdemosecret' }),
        invalidate: () => {},
      },
    }),
  );
  return {
    emulator,
    server,
    deps,
    ciam,
    close: async () => {
      await server.close();
      await emulator.close();
    },
  };
};
