// `npm run dlq -- <list|redrive|stats>`: look at dead letters and move them back, on AWS or
// against the local queue of `npm start`. Bodies hold personal data: listings leave them out
// unless --show-body is given.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DEAD_LETTER_REASON_ATTRIBUTES,
  type DeadLetterSummary,
  summarizeDeadLetter,
} from '../lib/queue/dead-letters.ts';
import { listDeadLetters, startRedrive } from '../lib/queue/sqs.ts';

const SERVICE = 'ciam-webhook-adapter';
/** serverless.yml's default region: `--stage` without `--region` means the same deployment. */
const DEFAULT_REGION = 'ap-southeast-1';
const DEFAULT_LOCAL_URL = 'http://127.0.0.1:3000';
const DEFAULT_MAX = 100;
/** listDeadLetters' default: how long listed messages stay hidden (SQS has no peek). */
const LIST_HIDE_SECONDS = 30;

export const USAGE = `Usage: npm run dlq -- <command> [options]

Commands:
  list        print the dead letters: ids, group, time, receive count and the reason attributes
  redrive     move the dead letters back to the source queue (StartMessageMoveTask)
  stats       message counts of the queue and its dead-letter queue

AWS:
  --stage <stage>      queues ${SERVICE}-<stage>-changes.fifo and ...-changes-dlq.fifo
  --queue-url <url>    the source queue (instead of --stage)
  --dlq-url <url>      the dead-letter queue (instead of --stage)
  --region <region>    default: the queue URL's region, else ${DEFAULT_REGION} (serverless.yml's)

Local (\`npm start\`):
  --local [url]        the local server, default ${DEFAULT_LOCAL_URL}

Options:
  --max <n>            list at most n dead letters (default ${DEFAULT_MAX})
  --show-body          include message bodies (personal data)
  --json               print JSON
  --rate <n>           redrive: messages per second, 1-500 (default: as fast as SQS goes)
  -h, --help           this text
`;

export interface DlqCliDeps {
  /** The SQS client for a region; tests hand in a mocked one. */
  sqsClient?: (region: string) => SQSClient;
  fetch?: typeof fetch;
  out: (line: string) => void;
  err: (line: string) => void;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Command = 'list' | 'redrive' | 'stats';
const COMMANDS: readonly Command[] = ['list', 'redrive', 'stats'];

interface Options {
  command: Command;
  stage: string | undefined;
  queueUrl: string | undefined;
  dlqUrl: string | undefined;
  region: string | undefined;
  local: string | undefined;
  max: number;
  showBody: boolean;
  json: boolean;
  rate: number | undefined;
}

/** `--local` takes an optional URL: give it the default when no URL follows. */
const expandLocal = (argv: readonly string[]): string[] => {
  const out: string[] = [];
  for (const [index, arg] of argv.entries()) {
    out.push(arg);
    if (arg === '--local' && !/^https?:\/\//.test(argv[index + 1] ?? '')) {
      out.push(DEFAULT_LOCAL_URL);
    }
  }
  return out;
};

const positiveInteger = (value: string | undefined, name: string, max: number) => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}`);
  }
  return number;
};

const parseOptions = (argv: readonly string[]): Options | 'help' => {
  const { values, positionals } = parseArgs({
    args: expandLocal(argv),
    allowPositionals: true,
    strict: true,
    options: {
      stage: { type: 'string' },
      'queue-url': { type: 'string' },
      'dlq-url': { type: 'string' },
      region: { type: 'string' },
      local: { type: 'string' },
      max: { type: 'string' },
      'show-body': { type: 'boolean' },
      json: { type: 'boolean' },
      rate: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError('Give exactly one command');
  const command = COMMANDS.find((name) => name === positionals[0]);
  if (command === undefined) throw new UsageError(`Unknown command '${positionals[0]}'`);
  const aws = [values.stage, values['queue-url'], values['dlq-url'], values.region];
  if (values.local !== undefined && aws.some((value) => value !== undefined)) {
    throw new UsageError('--local talks to `npm start`; leave out --stage, --*-url and --region');
  }
  if (values.stage !== undefined && !/^[A-Za-z0-9-]+$/.test(values.stage)) {
    throw new UsageError('--stage is a serverless stage name (letters, digits, dashes)');
  }
  if (
    values.stage !== undefined &&
    (values['queue-url'] !== undefined || values['dlq-url'] !== undefined)
  ) {
    throw new UsageError('Give either --stage or the queue URLs, not both');
  }
  if (values.local === undefined && values.stage === undefined) {
    const needs = command === 'stats' ? values['queue-url'] : values['dlq-url'];
    if (needs === undefined || (command === 'stats' && values['dlq-url'] === undefined)) {
      throw new UsageError(
        command === 'stats'
          ? 'Name the queues: --stage <stage>, or --queue-url and --dlq-url'
          : 'Name the dead-letter queue: --stage <stage> or --dlq-url <url> (or --local)',
      );
    }
  }
  return {
    command,
    stage: values.stage,
    queueUrl: values['queue-url'],
    dlqUrl: values['dlq-url'],
    region: values.region,
    local: values.local?.replace(/\/+$/, ''),
    max: positiveInteger(values.max, 'max', 10_000) ?? DEFAULT_MAX,
    showBody: values['show-body'] === true,
    json: values.json === true,
    rate: positiveInteger(values.rate, 'rate', 500),
  };
};

const formatLetters = (letters: readonly DeadLetterSummary[], queue: string): string[] => {
  const lines = [`${letters.length} dead letter(s) in ${queue}`];
  for (const letter of letters) {
    lines.push('', letter.messageId);
    const rows: [string, string | number | undefined][] = [
      ['group', letter.groupId],
      ['sent', letter.sentAt],
      ['receives', letter.receiveCount],
      ['source', letter.sourceQueue],
      ...DEAD_LETTER_REASON_ATTRIBUTES.map((name): [string, string | undefined] => [
        name,
        letter.reason[name],
      ]),
      [
        'note',
        letter.reason.attempted === 'false'
          ? 'never attempted: skipped behind a failing change of its group'
          : undefined,
      ],
      ['body', letter.body],
    ];
    for (const [name, value] of rows) {
      if (value !== undefined) lines.push(`  ${name.padEnd(18)}${value}`);
    }
  }
  return lines;
};

// ---------------------------------------------------------------------------------------------
// AWS

interface QueueCounts {
  visible: number;
  inFlight: number;
  /** The queue's URL (AWS) or name (local). */
  where: string;
}

/** `stats` output, the same for AWS and the local queue; `raw` is what --json prints. */
const printStats = (
  deps: DlqCliDeps,
  options: Options,
  counts: { queue: QueueCounts; deadLetterQueue: QueueCounts },
  raw: unknown,
): void => {
  if (options.json) {
    deps.out(JSON.stringify(raw, null, 2));
    return;
  }
  for (const [label, entry] of [
    ['queue', counts.queue],
    ['dead letters', counts.deadLetterQueue],
  ] as const) {
    deps.out(
      `${label.padEnd(14)}${entry.visible} visible, ${entry.inFlight} in flight  ${entry.where}`,
    );
  }
};

const regionOf = (options: Options): string => {
  if (options.region !== undefined) return options.region;
  const url = options.dlqUrl ?? options.queueUrl;
  const match = url === undefined ? null : /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\./.exec(url);
  return match?.[1] ?? DEFAULT_REGION;
};

const queueName = (stage: string, dead: boolean) =>
  `${SERVICE}-${stage}-changes${dead ? '-dlq' : ''}.fifo`;

const queueUrlOf = async (client: SQSClient, stage: string, dead: boolean) => {
  const { QueueUrl: url } = await client.send(
    new GetQueueUrlCommand({ QueueName: queueName(stage, dead) }),
  );
  if (url === undefined) throw new Error(`SQS returned no URL for ${queueName(stage, dead)}`);
  return url;
};

const attributesOf = async (client: SQSClient, queueUrl: string, names: string[]) => {
  const { Attributes: attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: names as GetQueueAttributesCommand['input']['AttributeNames'],
    }),
  );
  return attributes as Record<string, string | undefined>;
};

const queueArnOf = async (client: SQSClient, queueUrl: string) => {
  const arn = (await attributesOf(client, queueUrl, ['QueueArn'])).QueueArn;
  if (arn === undefined) throw new Error(`SQS returned no ARN for ${queueUrl}`);
  return arn;
};

const runAws = async (options: Options, deps: DlqCliDeps): Promise<number> => {
  const client = (deps.sqsClient ?? ((region) => new SQSClient({ region })))(regionOf(options));
  const { stage } = options;
  const dlqUrl =
    options.dlqUrl ?? (stage === undefined ? undefined : await queueUrlOf(client, stage, true));
  if (dlqUrl === undefined) throw new UsageError('No dead-letter queue');

  if (options.command === 'list') {
    const letters = await listDeadLetters({
      client,
      queueUrl: dlqUrl,
      max: options.max,
      visibilityTimeoutSeconds: LIST_HIDE_SECONDS,
    });
    const summaries = letters.map((letter) =>
      summarizeDeadLetter(
        {
          messageId: letter.messageId,
          body: letter.body,
          groupId: letter.groupId,
          sentTimestamp: letter.sentTimestamp,
          receiveCount: letter.receiveCount,
          sourceQueue: letter.deadLetterSourceArn,
          attributes: letter.attributes,
        },
        { showBody: options.showBody },
      ),
    );
    if (options.json) deps.out(JSON.stringify(summaries, null, 2));
    else for (const line of formatLetters(summaries, dlqUrl)) deps.out(line);
    if (summaries.length > 0) {
      // Listing is receiving: say so, since a redrive right now would not see these messages.
      deps.err(
        `note: SQS has no peek; the listed messages stay hidden for ${LIST_HIDE_SECONDS} s (a FIFO queue also holds back the rest of their groups). Wait that long before a redrive.`,
      );
    }
    if (summaries.length >= options.max) deps.err(`note: stopped at --max ${options.max}`);
    return 0;
  }

  const queueUrl =
    options.queueUrl ?? (stage === undefined ? undefined : await queueUrlOf(client, stage, false));

  if (options.command === 'stats') {
    if (queueUrl === undefined) throw new UsageError('No source queue');
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'];
    const [queue, dlq] = await Promise.all([
      attributesOf(client, queueUrl, names),
      attributesOf(client, dlqUrl, names),
    ]);
    const stats = (attributes: Record<string, string | undefined>) => ({
      visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    });
    const result = {
      queue: { url: queueUrl, ...stats(queue) },
      deadLetterQueue: { url: dlqUrl, ...stats(dlq) },
    };
    printStats(
      deps,
      options,
      {
        queue: { ...result.queue, where: result.queue.url },
        deadLetterQueue: { ...result.deadLetterQueue, where: result.deadLetterQueue.url },
      },
      result,
    );
    return 0;
  }

  // redrive: back to the source queue; with only --dlq-url, SQS picks the queues they came from.
  const sourceArn = await queueArnOf(client, dlqUrl);
  const destinationArn = queueUrl === undefined ? undefined : await queueArnOf(client, queueUrl);
  const { taskHandle } = await startRedrive({
    client,
    sourceArn,
    ...(destinationArn === undefined ? {} : { destinationArn }),
    ...(options.rate === undefined ? {} : { maxPerSecond: options.rate }),
  });
  const to = destinationArn ?? 'the queues they came from';
  if (options.json) deps.out(JSON.stringify({ taskHandle, from: sourceArn, to }, null, 2));
  else {
    deps.out(`Started moving dead letters from ${sourceArn} to ${to}.`);
    deps.out(`task handle: ${taskHandle ?? '(none returned)'}`);
    deps.out('Redriven messages get new message ids and join the back of their groups.');
  }
  return 0;
};

// ---------------------------------------------------------------------------------------------
// Local (`npm start`)

const callLocal = async (
  deps: DlqCliDeps,
  base: string,
  path: string,
  method: 'GET' | 'POST',
): Promise<unknown> => {
  const doFetch = deps.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${base}${path}`, { method });
  } catch (error) {
    throw new Error(`Cannot reach ${base} (is \`npm start\` running?)`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  }
  return JSON.parse(text) as unknown;
};

const runLocal = async (options: Options, base: string, deps: DlqCliDeps): Promise<number> => {
  if (options.command === 'list') {
    const result = (await callLocal(
      deps,
      base,
      `/__queue/dlq${options.showBody ? '?showBody=1' : ''}`,
      'GET',
    )) as { queue: string; deadLetters: DeadLetterSummary[] };
    const letters = result.deadLetters.slice(0, options.max);
    if (options.json) deps.out(JSON.stringify(letters, null, 2));
    else for (const line of formatLetters(letters, `${result.queue} (${base})`)) deps.out(line);
    if (result.deadLetters.length > letters.length)
      deps.err(`note: stopped at --max ${options.max}`);
    return 0;
  }
  if (options.command === 'stats') {
    const result = (await callLocal(deps, base, '/__queue/stats', 'GET')) as Record<
      'queue' | 'deadLetterQueue',
      { name: string; visible: number; inFlight: number }
    >;
    printStats(
      deps,
      options,
      {
        queue: { ...result.queue, where: result.queue.name },
        deadLetterQueue: { ...result.deadLetterQueue, where: result.deadLetterQueue.name },
      },
      result,
    );
    return 0;
  }
  if (options.rate !== undefined) deps.err('note: --rate does not apply to the local queue');
  const result = (await callLocal(deps, base, '/__queue/dlq/redrive', 'POST')) as {
    moved: number;
    from: string;
    to: string;
  };
  if (options.json) deps.out(JSON.stringify(result, null, 2));
  else deps.out(`Moved ${result.moved} dead letter(s) from ${result.from} back to ${result.to}.`);
  return 0;
};

// ---------------------------------------------------------------------------------------------

const explain = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  if (
    error.name === 'QueueDoesNotExist' ||
    error.name === 'AWS.SimpleQueueService.NonExistentQueue'
  ) {
    return `${error.name}: the queue does not exist (check --stage and --region)`;
  }
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
};

/** The CLI without the process: arguments in, lines out, an exit code back. */
export const runDlqCli = async (argv: readonly string[], deps: DlqCliDeps): Promise<number> => {
  let options: Options | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    deps.err(`${error instanceof Error ? error.message : String(error)}\n`);
    deps.err(USAGE);
    return 2;
  }
  if (options === 'help') {
    deps.out(USAGE);
    return 0;
  }
  try {
    return options.local === undefined
      ? await runAws(options, deps)
      : await runLocal(options, options.local, deps);
  } catch (error) {
    deps.err(`error: ${explain(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
};

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = await runDlqCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}
