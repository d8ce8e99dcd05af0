// `npm run bench` warm worker: loads one bundle in a fresh process and measures the CPU time each
// webhook costs, either calling the handler directly (`inproc`) or behind a loopback HTTP server
// (`http`, the parent sends). Plain JavaScript so no TypeScript loader runs in the measured process.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [bundle, mode, eventsFile, warmupText] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
const warmup = Number(warmupText ?? 200);

const context = () => ({
  awsRequestId: randomUUID(),
  functionName: 'bench',
  getRemainingTimeInMillis: () => 29_000,
  callbackWaitsForEmptyEventLoop: true,
});

const toEvent = (method, path, headers, body) => {
  const now = new Date();
  const connectionId = path.split('/')[2] ?? '';
  return {
    version: '2.0',
    routeKey: `${method} /webhooks/{connectionId}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    pathParameters: { connectionId: decodeURIComponent(connectionId) },
    requestContext: {
      accountId: 'bench',
      apiId: 'bench',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: `${method} /webhooks/{connectionId}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
};

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const summary = (samples, statuses, outcomes) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    n: samples.length,
    p50Us: at(0.5),
    p99Us: at(0.99),
    rssMb: process.memoryUsage().rss / 2 ** 20,
    statuses,
    outcomes,
  };
};

const count = (statuses, code) => {
  statuses[code] = (statuses[code] ?? 0) + 1;
};

// The answer's own `status` (applied, skipped, …) next to the HTTP status, so a reader sees
// that every measured webhook did the work (not refused as stale or a duplicate).
const outcomeOf = (result) => {
  const code = result?.statusCode ?? 200;
  try {
    const status = JSON.parse(result?.body ?? '').status;
    return typeof status === 'string' ? `${code} ${status}` : String(code);
  } catch {
    return String(code);
  }
};

if (mode === 'inproc') {
  const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
  (async () => {
    const samples = [];
    const statuses = {};
    const outcomes = {};
    for (let i = 0; i < events.length; i += 1) {
      const e = events[i];
      const start = cpuUs();
      const result = await handler(toEvent('POST', e.path, e.headers, e.body), context());
      const used = cpuUs() - start;
      if (i >= warmup) {
        samples.push(used);
        count(statuses, result?.statusCode ?? 200);
        count(outcomes, outcomeOf(result));
      }
    }
    process.stdout.write(`${JSON.stringify(summary(samples, statuses, outcomes))}\n`);
    process.exit(0);
  })();
} else {
  const samples = [];
  const statuses = {};
  const outcomes = {};
  let seen = 0;
  const server = createServer((req, res) => {
    const start = cpuUs();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const headers = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const result = await handler(toEvent(req.method, req.url, headers, body), context());
      res.writeHead(result?.statusCode ?? 200, result?.headers ?? {});
      res.end(result?.body ?? '', () => {
        seen += 1;
        if (seen > warmup) {
          samples.push(cpuUs() - start);
          count(statuses, result?.statusCode ?? 200);
          count(outcomes, outcomeOf(result));
        }
      });
    });
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m === 'done') {
      process.send({ summary: summary(samples, statuses, outcomes) });
      server.close();
      setTimeout(() => process.exit(0), 50).unref();
    }
  });
}
