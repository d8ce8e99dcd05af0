import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { HttpFetch, HttpRequestInit, HttpResponse } from '../fetch.ts';

/**
 * {@link HttpFetch}, the part of `fetch` the adapter uses, over node:http with keep-alive agents.
 * Why not global `fetch`: undici's fetch (streams, AbortController plumbing, Response objects)
 * measured about half of a webhook's warm CPU in `npm run bench`'s profile, and one connection is
 * reused per host anyway.
 */
const IDLE_SOCKET_MS = 4_000;
/** Distinct URLs whose request options are kept (CIAM and a few Okta orgs in practice). */
const MAX_TARGETS = 64;

/**
 * The `Response` subset the adapter reads. A class rather than an object literal with a
 * `get headers()` accessor: V8 gives every literal carrying a fresh accessor closure its own
 * hidden class, allocated in old space. Those dead maps held the closure, and through it the
 * request, response and socket buffers, across every young-generation GC until the next full
 * one: ~2 MB promoted per scavenge and 10–30 ms pauses in `npm run bench`.
 */
class KeepAliveResponse implements HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly body: { cancel: () => Promise<void> };
  readonly #res: IncomingMessage;
  readonly #done: Promise<string>;

  constructor(res: IncomingMessage, done: Promise<string>) {
    this.#res = res;
    this.#done = done;
    this.status = res.statusCode ?? 0;
    this.ok = this.status >= 200 && this.status < 300;
    this.body = { cancel: cancelBody(res) };
  }

  /** Built only when read: nothing on the CIAM path reads response headers. */
  get headers(): Headers {
    return new Headers(
      Object.entries(this.#res.headers).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
      ) as [string, string][],
    );
  }

  text(): Promise<string> {
    return this.#done;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.#done) as unknown;
  }
}

const cancelBody = (res: IncomingMessage) => async () => {
  res.resume();
};

export const createKeepAliveFetch = (): HttpFetch => {
  // Idle sockets close after 4 s, as undici's do: one frozen across Lambda invocations for longer
  // is not reused after the peer may have dropped it.
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  // Request options per target URL, built once: the CIAM client posts to one URL all day, and
  // http.request(url) would turn it into options again on every call.
  const targets = new Map<string, { protocol: 'http:' | 'https:'; options: RequestOptions }>();
  const targetOf = (href: string) => {
    let target = targets.get(href);
    if (target === undefined) {
      const url = new URL(href);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TypeError(`unsupported protocol ${url.protocol}`);
      }
      target = { protocol: url.protocol, options: urlToHttpOptions(url) };
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(href, target);
    }
    return target;
  };
  return (input: string | URL, init: HttpRequestInit = {}) =>
    new Promise<HttpResponse>((resolve, reject) => {
      let target: ReturnType<typeof targetOf>;
      try {
        target = targetOf(typeof input === 'string' ? input : input.href);
      } catch (error) {
        reject(error);
        return;
      }
      let headers: Readonly<Record<string, string>> = {};
      if (Array.isArray(init.headers) || init.headers instanceof Headers) {
        const copy: Record<string, string> = {};
        new Headers(init.headers).forEach((value, name) => {
          copy[name] = value;
        });
        headers = copy;
      } else if (init.headers !== undefined) {
        headers = init.headers;
      }
      const body = typeof init.body === 'string' ? init.body : undefined;
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send({
        ...target.options,
        method: init.method ?? 'GET',
        headers,
        agent: agents[target.protocol],
      });
      // Set on the request rather than as `{ ...headers, 'content-length': … }`, which would copy
      // the caller's headers into an object with its own hidden class on Node 20.
      if (body !== undefined) req.setHeader('content-length', Buffer.byteLength(body));
      // Aborting by hand rather than passing `signal` to http.request, whose abort plumbing
      // (addAbortSignal, end-of-stream) cost more than the request's own work in the bench profile.
      const { signal } = init;
      if (signal) {
        if (signal.aborted) {
          req.destroy(signal.reason);
        } else {
          const onAbort = () => req.destroy(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        const done = new Promise<string>((resolveText, rejectText) => {
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolveText(
              chunks.length === 1
                ? (chunks[0] as Buffer).toString('utf8')
                : Buffer.concat(chunks).toString('utf8'),
            ),
          );
          res.on('error', rejectText);
          res.on('aborted', () => rejectText(new Error('response aborted')));
        });
        // Unread failures must not surface as unhandled rejections.
        done.catch(() => undefined);
        resolve(new KeepAliveResponse(res, done));
      });
      req.end(body);
    });
};
