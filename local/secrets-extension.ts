// A stand-in for the AWS Parameters and Secrets Lambda Extension's secrets endpoint (the extension
// is a Lambda layer and cannot run here), for tests and `npm run bench`: `GET
// /secretsmanager/get?secretId=<name or ARN>` with the header `X-Aws-Parameters-Secrets-Token:
// <AWS_SESSION_TOKEN>`, answered with GetSecretValue's JSON. Values are held as given, like the
// extension's own cache, until `set` replaces one. No parameters, no version lookups.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Secret name → value (a string, or an object stored as its JSON text), as in local-secrets.json. */
export type FakeSecrets = Readonly<Record<string, unknown>>;

const ACCOUNT_ARN = 'arn:aws:secretsmanager:ap-southeast-1:000000000000:secret:';
/** Fixed, so the fake Secrets Manager and this extension answer byte for byte alike. */
const CREATED_DATE = 1_704_067_200;

/** The secret's name from a name, a full ARN (`…:secret:<name>-AbCdEf`) or a partial ARN. */
const nameOf = (secretId: string): string => {
  if (!secretId.startsWith('arn:')) return secretId;
  const tail = secretId.slice(secretId.indexOf(':secret:') + ':secret:'.length);
  return tail.replace(/-[A-Za-z0-9]{6}$/, '');
};

/**
 * GetSecretValue's response body for `secretId`, or undefined for an unknown secret. Shared with
 * the bench's fake Secrets Manager so both paths hand the function the same document.
 */
export const getSecretValueBody = (
  secrets: FakeSecrets,
  secretId: string,
): Record<string, unknown> | undefined => {
  const name = nameOf(secretId);
  if (!Object.hasOwn(secrets, name)) return undefined;
  const value = secrets[name];
  return {
    ARN: `${ACCOUNT_ARN}${name}-abcdef`,
    Name: name,
    SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    VersionId: 'v1',
    VersionStages: ['AWSCURRENT'],
    CreatedDate: CREATED_DATE,
  };
};

export interface FakeSecretsExtensionOptions {
  secrets: FakeSecrets;
  /** The AWS_SESSION_TOKEN the functions run with; any other token (or none) gets 401. */
  token: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface FakeSecretsExtension {
  /** For PARAMETERS_SECRETS_EXTENSION_HTTP_PORT. */
  port: number;
  /** Answers given so far, by outcome. */
  readonly served: { ok: number; unauthorized: number; notFound: number; badRequest: number };
  /** Requests so far by the secretId asked for (a name or an ARN), refused ones included. */
  readonly requests: Map<string, number>;
  /** Replaces (or adds) the value served for a secret name. */
  set(name: string, value: unknown): void;
  /** While true, requests are accepted but never answered (a hung extension). */
  hang: boolean;
  close(): Promise<void>;
}

const text = (res: ServerResponse, status: number, body: string): void => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
};

/** Starts the fake extension on 127.0.0.1 (and, when free, the same port on ::1: `localhost`). */
export const startFakeSecretsExtension = async ({
  secrets,
  token,
  port = 0,
}: FakeSecretsExtensionOptions): Promise<FakeSecretsExtension> => {
  const served = { ok: 0, unauthorized: 0, notFound: 0, badRequest: 0 };
  const values: Record<string, unknown> = { ...secrets };
  const requests = new Map<string, number>();
  const state = { hang: false };
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const asked = url.searchParams.get('secretId') ?? '';
    requests.set(asked, (requests.get(asked) ?? 0) + 1);
    if (state.hang) return;
    if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get') {
      served.badRequest += 1;
      text(res, 400, 'unsupported request: only GET /secretsmanager/get is emulated');
      return;
    }
    if (req.headers['x-aws-parameters-secrets-token'] !== token) {
      served.unauthorized += 1;
      text(res, 401, 'missing or wrong X-Aws-Parameters-Secrets-Token');
      return;
    }
    const secretId = url.searchParams.get('secretId');
    if (secretId === null || secretId === '') {
      served.badRequest += 1;
      text(res, 400, 'secretId is required');
      return;
    }
    const body = getSecretValueBody(values, secretId);
    if (body === undefined) {
      served.notFound += 1;
      text(
        res,
        400,
        `ResourceNotFoundException: Secrets Manager can't find the specified secret (${secretId}).`,
      );
      return;
    }
    served.ok += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const listen = (server: Server, host: string, at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const v4 = createServer(answer);
  await listen(v4, '127.0.0.1', port);
  const bound = (v4.address() as AddressInfo).port;
  // The real extension answers on localhost, which Node may resolve to ::1 first.
  let v6: Server | undefined = createServer(answer);
  try {
    await listen(v6, '::1', bound);
  } catch {
    v6 = undefined;
  }
  const closeOne = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    port: bound,
    served,
    requests,
    set(name, value) {
      values[name] = value;
    },
    get hang() {
      return state.hang;
    },
    set hang(value: boolean) {
      state.hang = value;
    },
    close: async () => {
      await Promise.all([closeOne(v4), ...(v6 === undefined ? [] : [closeOne(v6)])]);
    },
  };
};
