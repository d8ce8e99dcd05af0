import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

export interface LocalServerOptions {
  handler: HttpApiHandler;
  host?: string;
  port?: number;
  /** Same as the function's timeout in serverless.yml. */
  timeoutMs?: number;
  /** Extra readiness check for GET /health (e.g. the emulator answering). */
  ready?: () => Promise<boolean>;
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ROUTE = /^\/webhooks\/([^/]+)$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const isUtf8 = (bytes: Buffer): boolean => {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/**
 * Builds the event API Gateway's HTTP API (payload 2.0) would send: lower-cased headers with
 * duplicates joined by commas, text bodies as strings and anything else base64-encoded.
 */
export const toHttpApiEvent = (
  req: IncomingMessage,
  body: Buffer,
  connectionId: string,
): APIGatewayProxyEventV2 => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const routeKey = `${method} /webhooks/{connectionId}`;
  const now = new Date();
  const text = body.length === 0 || isUtf8(body);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    pathParameters: { connectionId: decodeURIComponent(connectionId) },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
};

const lambdaContext = (timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'ciam-webhook-adapter-local-webhook',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:webhook',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const send = (
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2 | string | undefined,
) => {
  if (typeof result === 'string' || result === undefined) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(result ?? '');
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(
    result.body === undefined
      ? ''
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : result.body,
  );
};

/**
 * A local stand-in for API Gateway: it routes like serverless.yml and invokes the same exported
 * handler Lambda runs. There is no second implementation of any webhook logic here.
 */
export const startLocalServer = async (options: LocalServerOptions): Promise<LocalServer> => {
  const timeoutMs = options.timeoutMs ?? 29_000;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/health' && req.method === 'GET') {
        const ok = options.ready === undefined || (await options.ready());
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
        return;
      }
      const match = ROUTE.exec(path);
      if (match === null || (req.method !== 'POST' && req.method !== 'GET')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"message":"Not Found"}');
        return;
      }
      const body = await readBody(req);
      const event = toHttpApiEvent(req, body, match[1] ?? '');
      try {
        send(res, await options.handler(event, lambdaContext(timeoutMs)));
      } catch (error) {
        // Lambda reports an unhandled error to API Gateway as a bare 500.
        console.error('handler threw', error);
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"Internal Server Error"}');
      }
    })().catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
