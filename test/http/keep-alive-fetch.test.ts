import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpFetch } from '../../lib/fetch.ts';
import { createKeepAliveFetch } from '../../lib/http/keep-alive-fetch.ts';

describe('createKeepAliveFetch', () => {
  let server: Server;
  let base = '';
  const sockets = new Set<unknown>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/slow') return; // never answers
        if (req.url === '/moved') {
          res.writeHead(302, { location: '/x' });
          res.end();
          return;
        }
        if (req.url === '/missing') {
          res.writeHead(404, { 'x-reason': 'gone' });
          res.end('not here');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
        res.end(
          JSON.stringify({
            method: req.method,
            body: Buffer.concat(chunks).toString('utf8'),
            auth: req.headers.authorization ?? null,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('posts a body, reads JSON and reuses one connection', async () => {
    const fetch = createKeepAliveFetch();
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${base}/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'é{}',
      });
      expect(response.status).toBe(200);
      expect(response.ok).toBe(true);
      expect(await response.json()).toEqual({ method: 'POST', body: 'é{}', auth: null });
    }
    expect(sockets.size).toBe(1);
  });

  it('takes Headers and URL inputs and exposes status, headers and text', async () => {
    const fetch = createKeepAliveFetch();
    const ok = await fetch(new URL(`${base}/y`), {
      headers: new Headers({ authorization: 'SSWS t' }),
    });
    expect(JSON.parse(await ok.text())).toMatchObject({ method: 'GET', auth: 'SSWS t' });
    expect(ok.headers.get('set-cookie')).toBe('a=1, b=2');
    const missing = await fetch(`${base}/missing`);
    expect(missing.status).toBe(404);
    expect(missing.ok).toBe(false);
    expect(missing.headers.get('x-reason')).toBe('gone');
    await missing.body?.cancel();
  });

  it('stops listening to the signal once the response is read', async () => {
    const fetch = createKeepAliveFetch();
    const controller = new AbortController();
    const response = await fetch(`${base}/x`, {
      method: 'POST',
      body: '{}',
      signal: controller.signal,
    });
    await response.text();
    // The Tencent client reuses a signal nobody listens to any more.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects when the signal aborts and for other protocols', async () => {
    const fetch = createKeepAliveFetch();
    await expect(fetch(`${base}/slow`, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await expect(fetch('ftp://example.org/')).rejects.toThrow(/unsupported protocol/);
  });

  // Typed as HttpFetch without a cast: the global fetch must fit wherever the keep-alive one does.
  const implementations: Array<[string, () => HttpFetch]> = [
    ['keep-alive fetch', createKeepAliveFetch],
    ['global fetch', () => globalThis.fetch],
  ];

  it.each(implementations)('%s answers what the adapter reads', async (_name, make) => {
    const fetch = make();
    const posted = await fetch(new URL(`${base}/x`), {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"a":1}',
      signal: new AbortController().signal,
    });
    expect([posted.status, posted.ok, posted.headers.get('content-type')]).toEqual([
      200,
      true,
      'application/json',
    ]);
    expect(await posted.json()).toEqual({ method: 'POST', body: '{"a":1}', auth: 'Bearer t' });
    const missing = await fetch(`${base}/missing`, { method: 'GET' });
    expect([missing.status, missing.ok, missing.headers.get('x-reason')]).toEqual([
      404,
      false,
      'gone',
    ]);
    expect(await missing.text()).toBe('not here');
  });

  it.each(implementations)('%s hands a redirect back without following it', async (_n, make) => {
    const moved = await make()(`${base}/moved`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('/x');
    await moved.body?.cancel();
  });
});
