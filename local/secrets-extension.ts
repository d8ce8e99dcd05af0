import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the AWS Parameters and Secrets Lambda Extension's local HTTP endpoint (for tests
 * and `npm run bench`; the extension itself is a Lambda layer and cannot run here). It answers
 * `GET /secretsmanager/get?secretId=<name>` as the extension does: GetSecretValue's JSON when the
 * `X-Aws-Parameters-Secrets-Token` header carries the session token, 401 without it, and 400 with
 * Secrets Manager's error type for an unknown secret. Values are held as given, like the
 * extension's own cache, until `set` replaces one.
 */
export interface SecretsExtensionStandIn {
  url: string;
  port: number;
  /** Requests answered so far, by secret id (including refused ones). */
  readonly requests: Map<string, number>;
  /** Replaces (or adds) a secret; an object is stored as its JSON text. */
  set(name: string, value: string | Record<string, unknown>): void;
  /** While true, requests are accepted but never answered (a hung extension). */
  hang: boolean;
  close(): Promise<void>;
}

export interface SecretsExtensionOptions {
  token: string;
  secrets: Record<string, unknown>;
  port?: number;
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

export const startSecretsExtension = async ({
  token,
  secrets,
  port = 0,
}: SecretsExtensionOptions): Promise<SecretsExtensionStandIn> => {
  const values = new Map(Object.entries(secrets).map(([k, v]) => [k, asText(v)]));
  const requests = new Map<string, number>();
  const state = { hang: false };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const id = url.searchParams.get('secretId') ?? '';
    requests.set(id, (requests.get(id) ?? 0) + 1);
    if (state.hang) return;
    if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get' || id === '') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    if (req.headers['x-aws-parameters-secrets-token'] !== token) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
      return;
    }
    const value = values.get(id);
    if (value === undefined) {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('ResourceNotFoundException: Secrets Manager can\u2019t find the specified secret.');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        ARN: `arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:${id}-AbCdEf`,
        Name: id,
        SecretString: value,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: '2026-01-01T00:00:00.000Z',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    set(name, value) {
      values.set(name, asText(value));
    },
    get hang() {
      return state.hang;
    },
    set hang(value: boolean) {
      state.hang = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
