// Warm CPU per webhook: a fresh worker process (bench/worker.mjs) loads one bundle and measures
// each delivery, either calling the handler itself (in process) or behind a loopback HTTP server
// this process sends to. Also the signed Clerk deliveries both functions are measured with.
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import type { Progress } from '../../scripts/progress.ts';
import type { Built } from '../build.ts';
import type { Summary } from '../report.ts';
import type { BenchRequest } from '../source-events.ts';

const CLERK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/**
 * Signed Clerk `user.updated` deliveries over `users` users in turn. Ids and update times count
 * up across every call of one maker, so each delivery is new and newer than the user's last.
 */
export const clerkEventMaker = (users: number) => {
  const webhook = new Webhook(CLERK_SECRET);
  let counter = 0;
  return (path: string, n: number): BenchRequest[] =>
    Array.from({ length: n }, (_, i) => {
      counter += 1;
      const user = i % users;
      const at = new Date();
      const id = `msg_bench_${counter}`;
      const updatedAt = 1_800_000_000_000 + counter * 1000;
      const body = JSON.stringify({
        type: 'user.updated',
        object: 'event',
        timestamp: updatedAt,
        data: {
          id: `ext-bench-${user}`,
          external_id: `bench-user-${user}`,
          object: 'user',
          first_name: `B${counter}`,
          last_name: 'Bench',
          email_addresses: [],
          phone_numbers: [],
          created_at: 1_700_000_000_000,
          updated_at: updatedAt,
        },
      });
      return {
        path,
        body,
        headers: {
          'content-type': 'application/json',
          'svix-id': id,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': webhook.sign(id, at, body),
        },
      };
    });
};

export interface WarmOptions {
  env: NodeJS.ProcessEnv;
  /** Where the in-process worker's event file is written. */
  dir: string;
  /** Deliveries before measuring starts. */
  warmup: number;
  /** A folder for a CPU profile of each in-process run (BENCH_PROFILE_DIR), or none. */
  profileDir?: string | undefined;
}

/**
 * Every request handled in one worker process, the first `warmup` unmeasured. Asynchronous: the
 * emulator and the fake secret servers answer from this process's event loop.
 */
export const inproc = async (
  built: Built,
  requests: readonly BenchRequest[],
  options: WarmOptions,
): Promise<Summary> => {
  const file = join(options.dir, `${built.name}-events.json`);
  writeFileSync(file, JSON.stringify(requests));
  const { stdout: out } = await promisify(execFile)(
    process.execPath,
    [
      ...(options.profileDir === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', options.profileDir]),
      'bench/worker.mjs',
      resolve(built.bundle),
      'inproc',
      file,
      String(options.warmup),
    ],
    { env: options.env, encoding: 'utf8', maxBuffer: 2 ** 24 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Summary;
};

/** A worker serving `built` over loopback HTTP; `send` posts one request and waits for the answer. */
export const httpWorker = async (
  built: Built,
  warmup: number,
  env: NodeJS.ProcessEnv,
  progress: Progress,
) => {
  // stdout is a pipe, as in Lambda and in the in-process runs, drained rather than printed (the
  // adapter's metrics are one EMF line per webhook); stderr stays visible, passed on below the
  // progress line rather than written into it.
  const child: ChildProcess = fork(
    'bench/worker.mjs',
    [resolve(built.bundle), 'http', '', String(warmup)],
    { env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    progress.clear();
    process.stderr.write(chunk);
  });
  const port = await new Promise<number>((r) =>
    child.once('message', (m) => r((m as { port: number }).port)),
  );
  return {
    /** Posts one request; resolves to its outcome as the worker counts them (`200 applied`). */
    send: async (request: BenchRequest): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const text = await res.text();
      try {
        const status = (JSON.parse(text) as { status?: unknown }).status;
        return typeof status === 'string' ? `${res.status} ${status}` : String(res.status);
      } catch {
        return String(res.status);
      }
    },
    done: () =>
      new Promise<Summary>((r) => {
        child.on('message', (m) => {
          const s = (m as { summary?: Summary }).summary;
          if (s !== undefined) r(s);
        });
        child.send('done');
      }),
  };
};

/** Every request sent to one HTTP worker, one at a time; `label` names the run on the progress line. */
export const overHttp = async (
  built: Built,
  requests: readonly BenchRequest[],
  options: WarmOptions & { progress: Progress; label: string },
): Promise<Summary> => {
  const worker = await httpWorker(built, options.warmup, options.env, options.progress);
  for (const [i, request] of requests.entries()) {
    await worker.send(request);
    options.progress.update(options.label, i + 1, requests.length);
  }
  return worker.done();
};
