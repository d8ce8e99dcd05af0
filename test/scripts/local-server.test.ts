import { request } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.ts';

const events: APIGatewayProxyEventV2[] = [];
let ready = true;
let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer({
    handler: async (event, context) => {
      events.push(event);
      if (event.pathParameters?.connectionId === 'boom') throw new Error('handler bug');
      return {
        statusCode: 201,
        headers: { 'x-remaining': String(context.getRemainingTimeInMillis() > 0) },
        body: '{"ok":true}',
      };
    },
    ready: async () => ready,
  });
});
afterAll(async () => server?.close());

/** node:http rather than fetch, to send repeated headers and arbitrary bytes. */
const send = (path: string, body: Buffer, headers: Array<[string, string]>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.on('error', reject);
    req.end(body);
  });

describe('local API Gateway stand-in', () => {
  it('builds a payload v2 event: lower-case headers, repeats joined, text body as is', async () => {
    const res = await send('/webhooks/clerk?a=1&a=2', Buffer.from('{"x":"é"}'), [
      ['Content-Type', 'application/json'],
      ['X-Dup', 'one'],
      ['X-Dup', 'two'],
    ]);
    expect(res).toEqual({ status: 201, body: '{"ok":true}' });
    const event = events.at(-1);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{connectionId}',
      rawPath: '/webhooks/clerk',
      rawQueryString: 'a=1&a=2',
      pathParameters: { connectionId: 'clerk' },
      queryStringParameters: { a: '1,2' },
      body: '{"x":"é"}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/webhooks/clerk' } },
    });
    expect(event?.headers['content-type']).toBe('application/json');
    expect(event?.headers['x-dup']).toBe('one,two');
  });

  it('base64-encodes bodies that are not UTF-8, keeping the exact bytes', async () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    await send('/webhooks/hmac', bytes, [['content-type', 'application/json']]);
    const event = events.at(-1);
    expect(event?.isBase64Encoded).toBe(true);
    expect(Buffer.from(event?.body ?? '', 'base64')).toEqual(bytes);
  });

  it('answers 404 for routes API Gateway would not route, and 500 when the handler throws', async () => {
    const other = await fetch(`${server.url}/other`, { method: 'POST' });
    expect({ status: other.status, body: await other.json() }).toEqual({
      status: 404,
      body: { message: 'Not Found' },
    });
    expect((await fetch(`${server.url}/webhooks/a/b`, { method: 'POST' })).status).toBe(404);
    // API Gateway's own answer when the function fails, not the adapter's error format.
    expect(await send('/webhooks/boom', Buffer.from('{}'), [])).toEqual({
      status: 500,
      body: '{"message":"Internal Server Error"}',
    });
  });

  it('reports health from the readiness check', async () => {
    ready = false;
    expect((await fetch(`${server.url}/health`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
