// `npm run reconcile -- --connection <id>`: plan a reconciliation of one connection (what would
// change, unmatched and orphaned users), write the plan to a file, and with --apply apply it
// through the queue. See docs/reconcile.md.
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { isAdapterError } from '../lib/errors.ts';
import { type ReconcilePlan, readPlanFile, writePlanFile } from '../lib/reconcile/plan.ts';
import { type RunOutcome, runReconcile } from '../lib/reconcile/run.ts';
import { describePlan, summaryLine } from '../lib/reconcile/runner.ts';
import { createRuntime, type RuntimeEnv } from '../lib/runtime/index.ts';
import { reconcileDeps } from '../lib/runtime/reconcile.ts';
import type { CreateSourceUserLister, SourceUserLister } from '../lib/source-apis/types.ts';
import {
  createMemoryLister,
  type ReconcileQueue,
  readSourceUsersFile,
  startReconcileQueue,
} from '../local/reconcile.ts';

export const USAGE = `Usage: npm run reconcile -- --connection <id> [options]

Plans what would bring CIAM into agreement with the connection's source, prints it (values
masked) and writes it to a file (personal data: readable by you only). Nothing is changed
without --apply.

Options:
  --connection <id>    the connection to reconcile (required)
  --apply [file]       apply: the plan just made, or a plan file saved before
  --yes                apply even when the plan has more changes than the threshold
  --max-changes <n>    the threshold (default: reconcile.maxChanges, else 10 % of the source
                       users, at least 10)
  --out <file>         where the plan goes (default .tmp/reconcile/<connection>-<time>.json)
  --resume <file>      continue an interrupted plan from its source cursor
  --local              against \`npm start\`'s emulator (CIAM_EMULATOR_PORT, default 3100) and
                       its stand-ins of the sources' user APIs (SOURCE_APIS_URL, else
                       SOURCE_APIS_PORT, default 3300), with config/local.json; applies through
                       a queue and consumer in this process
  --source-file <file> list source users from a JSON file of { externalId, updatedAt, change }
                       records instead of the source's API
  -h, --help           this text

Exit status: 0 done; 1 failed, or the source listing stopped (resume it); 2 usage; 3 the plan
exceeds the threshold and nothing was applied.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Options {
  connection: string;
  apply: boolean;
  applyFile: string | undefined;
  yes: boolean;
  maxChanges: number | undefined;
  out: string | undefined;
  resume: string | undefined;
  local: boolean;
  sourceFile: string | undefined;
}

/** `--apply` takes an optional file: a following argument that is no option is it. */
const parseOptions = (argv: readonly string[]): Options | 'help' => {
  const args = [...argv];
  let applyFile: string | undefined;
  const at = args.indexOf('--apply');
  if (at >= 0) {
    const next = args[at + 1];
    if (next !== undefined && !next.startsWith('-')) {
      applyFile = next;
      args.splice(at + 1, 1);
    }
  }
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      connection: { type: 'string' },
      apply: { type: 'boolean' },
      yes: { type: 'boolean' },
      'max-changes': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      local: { type: 'boolean' },
      'source-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.connection === undefined || values.connection === '') {
    throw new UsageError('--connection <id> is required');
  }
  let maxChanges: number | undefined;
  if (values['max-changes'] !== undefined) {
    maxChanges = Number(values['max-changes']);
    if (!Number.isSafeInteger(maxChanges) || maxChanges < 0) {
      throw new UsageError('--max-changes must be a whole number, 0 or more');
    }
  }
  if (applyFile !== undefined && values.resume !== undefined) {
    throw new UsageError('--apply <file> applies a finished plan; --resume finishes one first');
  }
  return {
    connection: values.connection,
    apply: values.apply === true,
    applyFile,
    yes: values.yes === true,
    maxChanges,
    out: values.out,
    resume: values.resume,
    local: values.local === true,
    sourceFile: values['source-file'],
  };
};

export interface ReconcileCliDeps {
  env: RuntimeEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  /** The sources' user API clients; default: lib/source-apis. */
  createLister?: CreateSourceUserLister;
  /** Epoch milliseconds. */
  now?: () => number;
}

const localEnv = (env: RuntimeEnv): RuntimeEnv => ({
  ...env,
  ADAPTER_CONFIG: env.ADAPTER_CONFIG ?? 'config/local.json',
  ADAPTER_SECRETS_FILE: env.ADAPTER_SECRETS_FILE ?? 'config/local-secrets.json',
  CIAM_ENDPOINT: `http://127.0.0.1:${env.CIAM_EMULATOR_PORT ?? 3100}`,
});

/**
 * The origin of `npm start`'s stand-ins of the sources' user APIs, for --local runs only (a
 * deployment's run never sends its credentials elsewhere than its config says): SOURCE_APIS_URL,
 * else SOURCE_APIS_PORT on this host; neither: the origin config/local.json names.
 */
const localSourceApis = (env: RuntimeEnv): string | undefined =>
  env.SOURCE_APIS_URL ??
  (env.SOURCE_APIS_PORT === undefined ? undefined : `http://127.0.0.1:${env.SOURCE_APIS_PORT}`);

const planPath = (options: Options, now: number): string =>
  options.out ??
  options.resume ??
  resolvePath(
    '.tmp/reconcile',
    `${options.connection}-${new Date(now).toISOString().replace(/[:.]/g, '-')}.json`,
  );

const report = (outcome: RunOutcome, path: string | undefined, deps: ReconcileCliDeps) => {
  const { plan } = outcome;
  for (const line of describePlan(plan)) deps.out(line);
  const { counts } = plan;
  deps.out(
    `plan: ${counts.changes} to update, ${counts.unmatched} unmatched, ${counts.orphaned} orphaned (${counts.deprovisioned} deprovisioned at the source), ${counts.filtered} outside the filter, ${counts.errors} not planned (errors), ${counts.held} fields held by newer changes; ${counts.ciamCalls} CIAM calls for ${counts.sourceUsers} source users`,
  );
  if (path !== undefined) deps.out(`plan file: ${path} (personal data; mode 0600)`);
  if (!plan.complete) {
    deps.err(
      `the source listing stopped after ${plan.pages} pages: ${plan.error?.code ?? 'unknown'} (${plan.error?.message ?? ''}); nothing applied. Continue with --resume ${path ?? '<file>'}`,
    );
  }
  if (outcome.refused === 'threshold') {
    deps.err(
      `the plan asks for ${outcome.actions} changes, more than the threshold of ${outcome.threshold}; nothing applied. Read the plan, then pass --yes (or --max-changes) to apply it`,
    );
  }
  if (outcome.report !== undefined) {
    const { queued, created, frozen, failures } = outcome.report;
    deps.out(`applied: ${queued} queued, ${created} created, ${frozen} frozen`);
    for (const failure of failures) {
      deps.err(`not applied: ${failure.kind} ${failure.id} ${failure.code}`);
    }
  }
};

/** The counts the last line leaves out, on the line before it. */
const countsLine = ({ counts }: ReconcilePlan): string =>
  `filtered=${counts.filtered} deprovisioned=${counts.deprovisioned} duplicates=${counts.duplicates} errors=${counts.errors} held=${counts.held}`;

export const runReconcileCli = async (
  argv: readonly string[],
  deps: ReconcileCliDeps,
): Promise<number> => {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    deps.err(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    deps.out(USAGE);
    return 0;
  }
  const opts = options;
  const now = deps.now ?? Date.now;
  const env = opts.local ? localEnv(deps.env) : deps.env;
  // Errors only: the consumer's per-change lines would bury the plan.
  const logger = new Logger({ serviceName: 'ciam-webhook-adapter', logLevel: 'ERROR' });
  let queue: ReconcileQueue | undefined;
  let plan: ReconcilePlan | undefined;
  try {
    const runtime = createRuntime(env, { recordOutcome: () => {}, logger, now });
    let lister: SourceUserLister | undefined;
    if (opts.sourceFile !== undefined) {
      const connection = runtime.config.connections.find((c) => c.id === opts.connection);
      lister = createMemoryLister(readSourceUsersFile(opts.sourceFile), {
        pageSize: connection?.reconcile?.api.pageSize ?? 100,
      });
    }
    if (lister === undefined && opts.applyFile !== undefined) {
      // A saved plan is applied as it is: the source is not listed again.
      lister = {
        listPage: () => Promise.reject(new Error('a saved plan does not list the source')),
      };
    }
    const sourceApisUrl = opts.local ? localSourceApis(env) : undefined;
    const built = reconcileDeps(runtime, {
      ...(lister === undefined ? {} : { lister }),
      ...(deps.createLister === undefined ? {} : { createLister: deps.createLister }),
      ...(sourceApisUrl === undefined ? {} : { sourceApisUrl }),
      recordDrift: () => {},
    });
    const connection = built.connection(opts.connection);
    if (opts.apply && opts.local) {
      queue = startReconcileQueue({ env, overrides: { logger } });
    }
    const saved =
      opts.applyFile !== undefined
        ? readPlanFile(opts.applyFile)
        : opts.resume !== undefined
          ? readPlanFile(opts.resume)
          : undefined;
    if (saved !== undefined && saved.connectionId !== opts.connection) {
      throw new UsageError(`the plan is for connection ${saved.connectionId}`);
    }
    const path = opts.applyFile === undefined ? planPath(opts, now()) : undefined;
    const outcome = await runReconcile(
      { ...built, queue: queue?.queue ?? built.queue },
      connection,
      {
        apply: opts.apply,
        yes: opts.yes,
        ...(opts.maxChanges === undefined ? {} : { maxChanges: opts.maxChanges }),
        ...(saved === undefined ? {} : { plan: saved }),
        applySaved: opts.applyFile !== undefined,
        ...(path === undefined ? {} : { checkpoint: (p: ReconcilePlan) => writePlanFile(path, p) }),
      },
    );
    plan = outcome.plan;
    // The local consumer applies what was queued before this process ends.
    await queue?.drain();
    report(outcome, path, deps);
    deps.out(countsLine(outcome.plan));
    deps.out(summaryLine(outcome.plan, outcome.applied));
    if (!outcome.plan.complete) return 1;
    if (outcome.refused === 'threshold') return 3;
    return outcome.report !== undefined && outcome.report.failures.length > 0 ? 1 : 0;
  } catch (error) {
    const code = isAdapterError(error) ? ` ${error.code}` : '';
    deps.err(`error:${code} ${(error as Error).message}`);
    if (plan !== undefined) deps.out(summaryLine(plan, 0));
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await queue?.stop();
  }
};

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = await runReconcileCli(process.argv.slice(2), {
    env: process.env,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}
