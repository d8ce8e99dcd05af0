import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/http/request.ts';
import { type LocalServer, startLocalServer } from '../../local/http-api.ts';

interface Call {
  route: string;
  event: APIGatewayProxyEventV2;
  context: Context;
}

const calls: Call[] = [];
let ready: () => Promise<boolean> = async () => true;
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({
    routes: [
      {
        method: 'ANY',
        path: '/webhooks/{connectionId}',
        functionName: 'webhook',
        timeoutMs: 29_000,
        // Stands in for the webhook handler: it, not API Gateway, refuses the wrong methods.
        handler: async (event, context) => {
          calls.push({ route: 'webhook', event, context });
          if (event.pathParameters?.connectionId === 'boom') {
            throw new Error(`handler bug near ${event.body ?? ''}`);
          }
          const method = event.requestContext.http.method;
          if (method !== 'POST' && method !== 'GET') {
            return {
              statusCode: 405,
              headers: { allow: 'GET, POST', 'content-type': 'application/json' },
              body: '{"code":"METHOD_NOT_ALLOWED","message":"Use POST"}',
            };
          }
          return {
            statusCode: 201,
            headers: { 'x-remaining': String(context.getRemainingTimeInMillis() > 0) },
            body: '{"ok":true}',
          };
        },
      },
      {
        method: ['GET', 'POST'],
        path: '/scim/v2/{connectionId}/{proxy+}',
        functionName: 'scim',
        handler: async (event, context) => {
          calls.push({ route: 'scim', event, context });
          return { statusCode: 200, body: 'scim' };
        },
      },
      {
        method: ['GET'],
        path: '/scim/v2/{connectionId}/ServiceProviderConfig',
        functionName: 'scim-config',
        handler: async (event, context) => {
          calls.push({ route: 'scim-config', event, context });
          return 'plain text result';
        },
      },
    ],
    ready: () => ready(),
  });
});
afterAll(async () => server?.close());
afterEach(() => {
  vi.restoreAllMocks();
  ready = async () => true;
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch, to send repeated headers, raw paths and arbitrary bytes. */
const send = (
  path: string,
  body: Buffer = Buffer.alloc(0),
  headers: Array<[string, string]> = [],
  method = 'POST',
) =>
  new Promise<Reply>((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('error', reject);
    req.end(body);
  });

/**
 * Streams `total` bytes in 64 KiB chunks, honouring back-pressure, until the server answers or
 * the connection goes. Resolves with the answer and how many bytes the socket accepted.
 */
const stream = (path: string, total: number, headers: Record<string, string> = {}) =>
  new Promise<{ reply: Reply; accepted: number }>((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let accepted = 0;
    let stopped = false;
    let answered = false;
    const req = request(`${server.url}${path}`, { method: 'POST', headers }, (res) => {
      stopped = true;
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          reply: {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          },
          accepted,
        }),
      );
    });
    // Once the server has answered and closed, writes fail with EPIPE/ECONNRESET: expected.
    req.on('error', (error) => {
      stopped = true;
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!stopped && accepted < total) {
        accepted += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!stopped) req.end();
    };
    pump();
  });

const lastCall = () => calls.at(-1);

describe('local/http-api', () => {
  it('builds a payload v2 event: lower-case headers, repeats joined, text body as is', async () => {
    const res = await send('/webhooks/clerk?a=1&a=2', Buffer.from('{"x":"é"}'), [
      ['Content-Type', 'application/json'],
      ['X-Dup', 'one'],
      ['X-Dup', 'two'],
    ]);
    expect(res).toMatchObject({ status: 201, body: '{"ok":true}' });
    expect(res.headers['x-remaining']).toBe('true');
    const event = lastCall()?.event;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /webhooks/{connectionId}',
      rawPath: '/webhooks/clerk',
      rawQueryString: 'a=1&a=2',
      pathParameters: { connectionId: 'clerk' },
      queryStringParameters: { a: '1,2' },
      body: '{"x":"é"}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'ANY /webhooks/{connectionId}',
        stage: '$default',
        http: { method: 'POST', path: '/webhooks/clerk' },
      },
    });
    expect(event?.headers['content-type']).toBe('application/json');
    expect(event?.headers['x-dup']).toBe('one,two');
  });

  it('base64-encodes bodies that are not UTF-8, keeping the exact bytes', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    await send('/webhooks/hmac', bytes, [['content-type', 'application/json']]);
    const event = lastCall()?.event;
    expect(event?.isBase64Encoded).toBe(true);
    expect(Buffer.from(event?.body ?? '', 'base64')).toEqual(bytes);
  });

  it('gives the handler a Lambda context named after the route function, with its timeout', async () => {
    await send('/webhooks/clerk', Buffer.from('{}'));
    const context = lastCall()?.context;
    expect(context?.functionName).toBe('webhook');
    const remaining = context?.getRemainingTimeInMillis() ?? 0;
    expect(remaining).toBeGreaterThan(20_000);
    expect(remaining).toBeLessThanOrEqual(29_000);
  });

  it('decodes path parameters, keeping an encoded slash inside its segment', async () => {
    await send('/webhooks/okta%20prod%2Fb', Buffer.from('{}'));
    expect(lastCall()?.event).toMatchObject({
      rawPath: '/webhooks/okta%20prod%2Fb',
      pathParameters: { connectionId: 'okta prod/b' },
    });
  });

  it('routes a greedy {proxy+} path to its route with the method in the route key', async () => {
    const res = await send('/scim/v2/okta/Users/u%201/groups?x=1', undefined, [], 'GET');
    expect(res).toMatchObject({ status: 200, body: 'scim' });
    expect(lastCall()).toMatchObject({
      route: 'scim',
      context: { functionName: 'scim' },
      event: {
        routeKey: 'GET /scim/v2/{connectionId}/{proxy+}',
        requestContext: { routeKey: 'GET /scim/v2/{connectionId}/{proxy+}' },
        pathParameters: { connectionId: 'okta', proxy: 'Users/u 1/groups' },
        queryStringParameters: { x: '1' },
      },
    });
  });

  it('prefers a literal segment over a greedy variable when both match', async () => {
    const res = await send('/scim/v2/okta/ServiceProviderConfig', undefined, [], 'GET');
    expect(lastCall()).toMatchObject({
      route: 'scim-config',
      event: {
        routeKey: 'GET /scim/v2/{connectionId}/ServiceProviderConfig',
        pathParameters: { connectionId: 'okta' },
      },
    });
    // A result without a statusCode is the body, as API Gateway reads payload 2.0 results.
    expect(res).toMatchObject({ status: 200, body: 'plain text result' });
    expect(res.headers['content-type']).toBe('application/json');
    // POST is not declared on the literal route, so the greedy one takes it.
    await send('/scim/v2/okta/ServiceProviderConfig', Buffer.from('{}'));
    expect(lastCall()?.route).toBe('scim');
  });

  it('sends every method to an ANY route, so the handler answers 405 itself', async () => {
    const before = calls.length;
    const res = await send('/webhooks/clerk', undefined, [], 'DELETE');
    expect(calls).toHaveLength(before + 1);
    expect(lastCall()?.event).toMatchObject({
      routeKey: 'ANY /webhooks/{connectionId}',
      requestContext: { http: { method: 'DELETE' } },
    });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(JSON.parse(res.body)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('answers 404 ROUTE_NOT_FOUND as JSON when no route matches the path or the method', async () => {
    const before = calls.length;
    for (const [path, method] of [
      ['/other', 'POST'],
      ['/webhooks/a/b', 'POST'],
      ['/webhooks/', 'POST'],
      ['/webhooks', 'POST'],
      ['/scim/v2/okta', 'GET'],
      ['/scim/v2/okta/', 'GET'],
      ['/scim/v2/okta/Users', 'DELETE'],
      ['/health', 'POST'],
    ] as const) {
      const res = await send(path, undefined, [], method);
      expect({ path, method, status: res.status }).toEqual({ path, method, status: 404 });
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body)).toEqual({ code: 'ROUTE_NOT_FOUND', message: 'Not Found' });
    }
    expect(calls).toHaveLength(before);
  });

  it.each(['/webhooks/%', '/webhooks/%E0%A4%A', '/scim/v2/okta/Users/%zz'])(
    'answers 400 PATH_INVALID for the malformed path %s without invoking a handler',
    async (path) => {
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      const before = calls.length;
      const res = await send(path, Buffer.from('{}'));
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body)).toMatchObject({
        code: 'PATH_INVALID',
        message: expect.any(String),
      });
      expect(calls).toHaveLength(before);
      expect(errors).not.toHaveBeenCalled();
    },
  );

  it('answers 413 and closes when the declared content-length is over the limit', async () => {
    const before = calls.length;
    const total = 32 * 1024 * 1024;
    const { reply, accepted } = await stream('/webhooks/clerk', total, {
      'content-length': String(total),
    });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(accepted).toBeLessThan(total);
    expect(calls).toHaveLength(before);
  });

  it('answers 413 while a chunked body streams past the limit, and stops reading it', async () => {
    const before = calls.length;
    const total = 32 * 1024 * 1024;
    const { reply, accepted } = await stream('/webhooks/clerk', total);
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(JSON.parse(reply.body)).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      message: `The body exceeds ${MAX_BODY_BYTES} bytes`,
    });
    // The server dropped the connection instead of reading (and keeping) the remaining bytes.
    expect(accepted).toBeLessThan(total);
    expect(calls).toHaveLength(before);
  });

  it('accepts a body of exactly the limit', async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES, 0x61);
    const res = await send('/webhooks/clerk', body);
    expect(res.status).toBe(201);
    expect(lastCall()?.event.body).toHaveLength(MAX_BODY_BYTES);
  });

  it('answers 500 INTERNAL as JSON when the handler throws, logging one line without the body', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const res = await send('/webhooks/boom', Buffer.from('{"secret":"s3cr3t"}'));
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ code: 'INTERNAL', message: 'Internal Server Error' });
    expect(errors).toHaveBeenCalledTimes(1);
    const logged = errors.mock.calls[0]?.map(String).join(' ') ?? '';
    expect(logged).not.toContain('s3cr3t');
    expect(logged).not.toContain('\n');
  });

  it('survives a client that goes away mid-body, without invoking the handler', async () => {
    const before = calls.length;
    await new Promise<void>((resolve) => {
      const req = request(`${server.url}/webhooks/clerk`, {
        method: 'POST',
        headers: { 'content-length': '1000' },
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.write('{"partial":', () => setTimeout(() => req.destroy(), 20));
    });
    expect((await send('/webhooks/clerk', Buffer.from('{}'))).status).toBe(201);
    expect(calls).toHaveLength(before + 1);
  });

  it('reports health from the readiness check', async () => {
    ready = async () => false;
    const starting = await send('/health', undefined, [], 'GET');
    expect(starting.status).toBe(503);
    expect(JSON.parse(starting.body)).toEqual({ status: 'starting' });
    ready = async () => {
      throw new Error('emulator not listening');
    };
    expect((await send('/health', undefined, [], 'GET')).status).toBe(503);
    ready = async () => true;
    const ok = await send('/health', undefined, [], 'GET');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ status: 'ok' });
  });
});

describe('local/http-api route table', () => {
  const handler = async () => ({ statusCode: 204 });

  it('refuses a greedy variable that is not the last segment', async () => {
    await expect(
      startLocalServer({
        routes: [{ method: 'ANY', path: '/a/{proxy+}/b', handler, functionName: 'f' }],
      }),
    ).rejects.toThrow(/greedy/);
  });

  it('refuses the same route key declared twice', async () => {
    await expect(
      startLocalServer({
        routes: [
          { method: ['POST'], path: '/a/{id}', handler, functionName: 'f' },
          { method: ['GET', 'POST'], path: '/a/{id}', handler, functionName: 'g' },
        ],
      }),
    ).rejects.toThrow(/Duplicate route 'POST \/a\/\{id\}'/);
  });
});

describe('local/http-api source IP', () => {
  it('reports the TCP peer as API Gateway does: IPv4 plainly on a dual-stack listener, IPv6 as is, never x-forwarded-for', async () => {
    const seen: string[] = [];
    const dual = await startLocalServer({
      host: '::',
      routes: [
        {
          method: 'ANY',
          path: '/webhooks/{connectionId}',
          functionName: 'webhook',
          handler: async (event) => {
            seen.push(event.requestContext.http.sourceIp);
            return { statusCode: 204 };
          },
        },
      ],
    });
    try {
      expect(dual.url).toBe(`http://[::]:${dual.port}`);
      const from = (host: string, localAddress: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            {
              host,
              port: dual.port,
              localAddress,
              path: '/webhooks/c',
              method: 'POST',
              headers: { 'x-forwarded-for': '192.0.2.1' },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await from('127.0.0.1', '127.0.0.2')).toBe(204);
      expect(await from('127.0.0.1', '127.0.0.254')).toBe(204);
      expect(await from('::1', '::1')).toBe(204);
      expect(seen).toEqual(['127.0.0.2', '127.0.0.254', '::1']);
    } finally {
      await dual.close();
    }
  });
});
