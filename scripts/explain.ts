// `npm run explain -- --connection <id> <event file>`: what the adapter would do with one delivery
// (or `--plan <file> --user <id>`: one reconciliation plan entry), traced step by step without
// writing anything: only reads reach CIAM. `--local` points it at `npm start`'s config, secrets
// and emulator; otherwise it reads the deployed config (ADAPTER_CONFIG) and AWS secrets. Request
// bodies hold personal data: the trace shows them masked unless --show-body is given.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { isAdapterError } from '../lib/errors.ts';
import { type ExplainInput, explain } from '../lib/explain/explain.ts';
import { deliveryFromEvent, deliveryFromRaw, planEntry } from '../lib/explain/input.ts';
import { renderTrace } from '../lib/explain/render.ts';
import { createRuntime, type RuntimeEnv } from '../lib/runtime/index.ts';

export const USAGE = `Usage: npm run explain -- --connection <id> [options] <event file>
       npm run explain -- --connection <id> [options] --body <file> --header 'name: value'…
       npm run explain -- [--connection <id>] [options] --plan <file> --user <id>

What the adapter would do with one delivery, without writing anything: the signature verdict,
the events handled or ignored, how the user was resolved, each field's clock decision, the diff
against the user's CIAM values (masked) and the UpdateUser request it would send. The last line
is EXPLAIN {json}.

Input:
  <event file>         an API Gateway event, as in events/ (.tmp/events/ after npm run events)
  --body <file>        a raw delivery body, with its headers given by --header (repeatable)
  --plan <file>        a reconciliation plan, with --user <CIAM user id or external id>

Options:
  --connection <id>    the connection it is delivered to (a plan entry's own by default)
  --local              npm start's config, secrets and emulator (CIAM_EMULATOR_PORT, 3100)
  --at <time>          check signatures as at this time (epoch ms or ISO), not now
  --show-body          print the exact request body (personal data) instead of a masked copy
  -h, --help           this text
`;

export interface ExplainCliDeps {
  env: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => Buffer;
  fetch?: typeof fetch;
  out: (line: string) => void;
  err: (line: string) => void;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const parseAt = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const at = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(at)) throw new UsageError(`--at: not a time: ${value}`);
  return at;
};

/** The environment `npm start` gives its functions, unless the caller set these already. */
const localEnv = (env: ExplainCliDeps['env']): RuntimeEnv => ({
  ...env,
  ADAPTER_CONFIG: env.ADAPTER_CONFIG || 'config/local.json',
  ADAPTER_SECRETS_FILE: env.ADAPTER_SECRETS_FILE || 'config/local-secrets.json',
  CIAM_ENDPOINT: `http://127.0.0.1:${Number(env.CIAM_EMULATOR_PORT || 3100)}`,
});

/** Runs the command; resolves to the exit code (0 also when the delivery would be refused). */
export const runExplainCli = async (argv: readonly string[], deps: ExplainCliDeps) => {
  const readFile = deps.readFile ?? ((path: string) => readFileSync(path));
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        connection: { type: 'string' },
        local: { type: 'boolean', default: false },
        body: { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        plan: { type: 'string' },
        user: { type: 'string' },
        at: { type: 'string' },
        'show-body': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      deps.out(USAGE);
      return 0;
    }
    const at = parseAt(values.at);
    const [file, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`One input at a time, not ${positionals.length}`);
    const inputs = [file, values.body, values.plan].filter((value) => value !== undefined);
    if (inputs.length !== 1) {
      throw new UsageError('Give one input: an event file, --body <file> or --plan <file>');
    }

    let input: ExplainInput;
    if (values.plan !== undefined) {
      if (values.user === undefined) throw new UsageError('--plan needs --user <id>');
      const entry = planEntry(readFile(values.plan).toString('utf8'), values.user);
      input = {
        kind: 'snapshot',
        connectionId: values.connection ?? entry.change.connectionId,
        change: entry.change,
        ...(entry.userId === undefined ? {} : { planUserId: entry.userId }),
      };
    } else {
      const connectionId = values.connection;
      if (connectionId === undefined) throw new UsageError('--connection <id> is required');
      const delivery =
        values.body !== undefined
          ? deliveryFromRaw(connectionId, readFile(values.body), values.header)
          : deliveryFromEvent(readFile(file as string).toString('utf8'));
      input = { kind: 'delivery', connectionId, ...delivery };
    }

    const env: RuntimeEnv = values.local ? localEnv(deps.env) : { ...deps.env };
    const runtime = createRuntime(env, {
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      logger: new Logger({ serviceName: 'ciam-webhook-adapter', logLevel: 'SILENT' }),
      recordOutcome: () => {},
    });
    const now = at === undefined ? runtime.now : () => at;
    // The connection's own CIAM tenant: its credentials, endpoint and user stores. An unknown
    // connection is explain's to report, against the default tenant.
    const connection = runtime.config.connections.find(({ id }) => id === input.connectionId);
    const tenant = runtime.tenants.of(connection ?? {});
    const trace = await explain(
      {
        config: runtime.config,
        ciam: tenant.ciam,
        prepareRequest: (action, params) => tenant.tencent.prepare(action, params),
        secrets: runtime.secrets,
        fetch: runtime.fetch,
        now,
      },
      input,
    );
    for (const line of renderTrace(trace, { showBody: values['show-body'] })) deps.out(line);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      deps.err(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    deps.err(
      isAdapterError(error)
        ? `explain: ${error.code} ${error.message}`
        : `explain: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
};

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = await runExplainCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
  // The keep-alive agent would hold the process open for its idle timeout.
  process.exit();
}
