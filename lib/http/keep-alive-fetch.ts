import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The part of `fetch` the adapter uses (CIAM and Okta calls: method, headers, string body, signal;
 * status, text, json, body.cancel), over node:http with keep-alive agents. Why not global `fetch`:
 * undici's fetch (streams, AbortController plumbing, Response objects) measured about half of a
 * webhook's warm CPU in `npm run bench`'s profile, and one connection is reused per host anyway.
 */
const IDLE_SOCKET_MS = 4_000;

export const createKeepAliveFetch = (): typeof fetch => {
  // Idle sockets close after 4 s, as undici's do: one frozen across Lambda invocations for longer
  // is not reused after the peer may have dropped it.
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  const keepAliveFetch = (input: string | URL | Request, init: RequestInit = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        reject(new TypeError(`unsupported protocol ${url.protocol}`));
        return;
      }
      let headers: Record<string, string> = {};
      if (Array.isArray(init.headers) || init.headers instanceof Headers) {
        new Headers(init.headers).forEach((value, name) => {
          headers[name] = value;
        });
      } else if (init.headers !== undefined) {
        headers = init.headers as Record<string, string>;
      }
      const body = typeof init.body === 'string' ? init.body : undefined;
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, {
        method: init.method ?? 'GET',
        headers:
          body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        agent: agents[url.protocol],
        ...(init.signal ? { signal: init.signal } : {}),
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        const done = new Promise<string>((resolveText, rejectText) => {
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolveText(Buffer.concat(chunks).toString('utf8')));
          res.on('error', rejectText);
          res.on('aborted', () => rejectText(new Error('response aborted')));
        });
        // Unread failures must not surface as unhandled rejections.
        done.catch(() => undefined);
        const status = res.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          // Built only when read: nothing on the CIAM path reads response headers.
          get headers() {
            return new Headers(
              Object.entries(res.headers).flatMap(([name, value]) =>
                value === undefined
                  ? []
                  : [[name, Array.isArray(value) ? value.join(', ') : value]],
              ) as [string, string][],
            );
          },
          text: () => done,
          json: async () => JSON.parse(await done) as unknown,
          body: {
            cancel: async () => {
              res.resume();
            },
          },
        } as unknown as Response);
      });
      req.end(body);
    });
  return keepAliveFetch as typeof fetch;
};
