import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { MAX_BODY_BYTES } from '../lib/http/request.ts';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | string | undefined>;

export interface LocalRoute {
  /** 'ANY' or a list of methods, as in serverless.yml httpApi events. */
  method: 'ANY' | readonly string[];
  /** API Gateway route path: `/webhooks/{connectionId}`, `/scim/v2/{connectionId}/{proxy+}` (greedy last segment). */
  path: string;
  handler: HttpApiHandler;
  /** Lambda function name for the context (e.g. 'webhook'). */
  functionName: string;
  /** The function timeout from serverless.yml, ms. */
  timeoutMs?: number;
}

export interface LocalServerOptions {
  routes: readonly LocalRoute[];
  host?: string;
  port?: number;
  /** Extra readiness check for GET /health (e.g. the emulator answering). */
  ready?: () => Promise<boolean>;
}

export interface LocalServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

interface CompiledRoute {
  route: LocalRoute;
  segments: readonly Segment[];
  methods: 'ANY' | ReadonlySet<string>;
}

interface RouteMatch {
  route: LocalRoute;
  pathParameters: Record<string, string>;
}

type BodyResult = { kind: 'body'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

const PARAM = /^\{([\w.-]+)\}$/;
const GREEDY = /^\{([\w.-]+)\+\}$/;
const DEFAULT_TIMEOUT_MS = 29_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const compileRoute = (route: LocalRoute): CompiledRoute => {
  if (!route.path.startsWith('/')) throw new Error(`Route path must start with "/": ${route.path}`);
  const parts = route.path.split('/').slice(1);
  const segments = parts.map((part, index): Segment => {
    const greedy = GREEDY.exec(part);
    if (greedy?.[1] !== undefined) {
      if (index !== parts.length - 1) {
        throw new Error(`A greedy path variable must be the last segment: ${route.path}`);
      }
      return { kind: 'greedy', name: greedy[1] };
    }
    const param = PARAM.exec(part);
    if (param?.[1] !== undefined) return { kind: 'param', name: param[1] };
    if (part.includes('{') || part.includes('}')) {
      throw new Error(`Invalid path variable in route: ${route.path}`);
    }
    return { kind: 'literal', value: part };
  });
  if (route.method !== 'ANY' && route.method.length === 0) {
    throw new Error(`Route without methods: ${route.path}`);
  }
  const methods =
    route.method === 'ANY' ? 'ANY' : new Set(route.method.map((m) => m.toUpperCase()));
  return { route, segments, methods };
};

const matchSegments = (
  segments: readonly Segment[],
  decoded: readonly string[],
): Record<string, string> | undefined => {
  const params: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'greedy') {
      const rest = decoded.slice(index).join('/');
      if (rest === '') return undefined;
      params[segment.name] = rest;
      return params;
    }
    const value = decoded[index];
    if (value === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (value !== segment.value) return undefined;
    } else {
      if (value === '') return undefined;
      params[segment.name] = value;
    }
  }
  return decoded.length === segments.length ? params : undefined;
};

/** Literal segments beat variables, variables beat greedy ones, a named method beats ANY. */
const SPECIFICITY = { literal: 2, param: 1, greedy: 0 } as const;
const moreSpecific = (a: CompiledRoute, b: CompiledRoute): number => {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const sa = a.segments[i];
    const sb = b.segments[i];
    const diff = (sb ? SPECIFICITY[sb.kind] : -1) - (sa ? SPECIFICITY[sa.kind] : -1);
    if (diff !== 0) return diff;
  }
  return (a.methods === 'ANY' ? 1 : 0) - (b.methods === 'ANY' ? 1 : 0);
};

const routeKeyOf = (route: LocalRoute, method: string): string =>
  `${route.method === 'ANY' ? 'ANY' : method} ${route.path}`;

/** `req.url` is origin-form; `new URL` would read `//x` as a host and normalise `..` away. */
const splitUrl = (url: string): { rawPath: string; rawQueryString: string } => {
  const q = url.indexOf('?');
  return q === -1
    ? { rawPath: url, rawQueryString: '' }
    : { rawPath: url.slice(0, q), rawQueryString: url.slice(q + 1) };
};

const isUtf8 = (bytes: Buffer): boolean => {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/**
 * Reads at most `limit` bytes. Past the limit it stops keeping chunks (the rest is discarded as
 * it arrives) so an oversized or endless body costs no memory.
 */
const readBody = (req: IncomingMessage, limit: number): Promise<BodyResult> =>
  new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      chunks = [];
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle({ kind: 'too-large' });
      else chunks.push(chunk);
    });
    req.on('end', () => settle({ kind: 'body', body: Buffer.concat(chunks, size) }));
    // A client that goes away mid-body: there is nobody to answer.
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => {
      if (!req.complete) settle({ kind: 'aborted' });
    });
  });

/**
 * The TCP peer, as API Gateway reports it in `requestContext.http.sourceIp`: the address the
 * connection came from, never a header the caller wrote (`x-forwarded-for` is not read). A
 * dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`; API Gateway reports them as `a.b.c.d`.
 * A socket already gone has no peer: an empty string, which no allow-list admits.
 */
const sourceIpOf = (req: IncomingMessage): string => {
  const address = req.socket.remoteAddress ?? '';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
};

/**
 * Builds the event API Gateway's HTTP API (payload 2.0) would send for a request matched to
 * `route`: lower-cased headers with duplicates joined by commas, text bodies as strings and
 * anything else base64-encoded. `pathParameters` are already decoded.
 */
export const toHttpApiEvent = (
  req: IncomingMessage,
  body: Buffer,
  route: LocalRoute,
  pathParameters: Readonly<Record<string, string>>,
): APIGatewayProxyEventV2 => {
  const { rawPath, rawQueryString } = splitUrl(req.url ?? '/');
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const routeKey = routeKeyOf(route, method);
  const now = new Date();
  const text = body.length === 0 || isUtf8(body);
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters: { ...pathParameters } } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: sourceIpOf(req),
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

const lambdaContext = (route: LocalRoute): Context => {
  const deadline = Date.now() + (route.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: route.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${route.functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${route.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};

const sendJson = (
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(statusCode, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const sendError = (
  res: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) => sendJson(res, statusCode, { code, message }, headers);

const sendTooLarge = (res: ServerResponse) =>
  // `connection: close` makes Node drop the socket after answering instead of reading on.
  sendError(res, 413, 'PAYLOAD_TOO_LARGE', `The body exceeds ${MAX_BODY_BYTES} bytes`, {
    connection: 'close',
  });

/** As API Gateway reads a payload 2.0 result: with a `statusCode` it is structured, else it is the body. */
const sendResult = (
  res: ServerResponse,
  result: APIGatewayProxyStructuredResultV2 | string | undefined,
) => {
  if (res.headersSent || res.destroyed) return;
  if (typeof result !== 'object' || result === null || !('statusCode' in result)) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result),
    );
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) {
    headers['set-cookie'] = result.cookies;
  }
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(
    result.body === undefined
      ? ''
      : result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : result.body,
  );
};

const describeError = (error: unknown): string => {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
};

/**
 * A local stand-in for API Gateway's HTTP API: it routes like serverless.yml and invokes the same
 * exported handlers Lambda runs. There is no second implementation of any webhook logic here;
 * what it adds is what API Gateway itself answers (unknown routes, bad paths, oversized bodies,
 * crashed functions), each as JSON with a stable `code`.
 */
export const startLocalServer = async (options: LocalServerOptions): Promise<LocalServer> => {
  const routes = options.routes.map(compileRoute);
  const keys = new Set<string>();
  for (const { route, methods } of routes) {
    for (const method of methods === 'ANY' ? ['ANY'] : methods) {
      const key = `${method} ${route.path}`;
      if (keys.has(key)) throw new Error(`Duplicate route '${key}'`);
      keys.add(key);
    }
  }

  const findRoute = (method: string, decoded: readonly string[]): RouteMatch | undefined => {
    let best: { compiled: CompiledRoute; pathParameters: Record<string, string> } | undefined;
    for (const compiled of routes) {
      if (compiled.methods !== 'ANY' && !compiled.methods.has(method)) continue;
      const pathParameters = matchSegments(compiled.segments, decoded);
      if (pathParameters === undefined) continue;
      if (best === undefined || moreSpecific(compiled, best.compiled) < 0) {
        best = { compiled, pathParameters };
      }
    }
    return best && { route: best.compiled.route, pathParameters: best.pathParameters };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    if (!url.startsWith('/')) {
      sendError(res, 400, 'PATH_INVALID', 'The request target must be a path');
      return;
    }
    const { rawPath } = splitUrl(url);
    if (rawPath === '/health' && method === 'GET') {
      // A readiness check that throws means "not ready yet", not a crash.
      const ok = options.ready === undefined || (await options.ready().catch(() => false));
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'starting' });
      return;
    }
    let decoded: string[];
    try {
      decoded = rawPath.split('/').slice(1).map(decodeURIComponent);
    } catch {
      sendError(res, 400, 'PATH_INVALID', 'The path is not valid percent-encoding');
      return;
    }
    const match = findRoute(method, decoded);
    if (match === undefined) {
      // API Gateway answers 404 both for an unknown path and for a method the path lacks.
      sendError(res, 404, 'ROUTE_NOT_FOUND', 'Not Found');
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      sendTooLarge(res);
      return;
    }
    const read = await readBody(req, MAX_BODY_BYTES);
    if (read.kind === 'aborted') return;
    if (read.kind === 'too-large') {
      sendTooLarge(res);
      return;
    }
    const event = toHttpApiEvent(req, read.body, match.route, match.pathParameters);
    let result: Awaited<ReturnType<HttpApiHandler>>;
    try {
      result = await match.route.handler(event, lambdaContext(match.route));
    } catch (error) {
      // Lambda reports an unhandled error to API Gateway, which answers a bare 500. One line, and
      // no message: messages (JSON.parse's, for one) can quote the body.
      console.error(
        `local http-api: ${match.route.functionName} threw ${describeError(error)} (${event.routeKey}, request ${event.requestContext.requestId})`,
      );
      sendError(res, 500, 'INTERNAL', 'Internal Server Error');
      return;
    }
    sendResult(res, result);
  };

  // Headers up to 64 KiB reach the function (Node's default would answer a bare 431 above 16 KiB),
  // so oversized signature and id headers are refused by the adapter itself, with a code.
  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`local http-api: ${describeError(error)} answering ${req.method} request`);
      sendError(res, 500, 'INTERNAL', 'Internal Server Error');
    });
  });
  // What API Gateway answers itself for a request it cannot parse: a status and a JSON code
  // (Node's default is a bare 400 or 431), so every refusal carries a code here too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify(
      tooLarge
        ? { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large' }
        : { code: 'REQUEST_MALFORMED', message: 'The request is not valid HTTP' },
    );
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const host = options.host ?? '127.0.0.1';
  return {
    // An IPv6 host (`::` for dual stack, `::1`) goes in brackets in a URL.
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
