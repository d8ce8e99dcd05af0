import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { startEmulator } from '../emulator/server.ts';
import type { WebhookSourceType } from '../lib/config/types.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { webhookDeps } from '../lib/runtime/webhook.ts';
import { SENDERS } from '../lib/sources/senders.ts';
import { createHandler as createWebhookHandler } from '../lib/webhook/handler.ts';
import { createLocalFifoQueue } from './fifo-queue.ts';

/**
 * The sample Lambda events of `events/`, signed for a given time with the demo secrets
 * (config/local-secrets.json), for `serverless invoke local` and `npm run events`:
 *
 * - `<source>.user-updated.json`: the committed sample, re-signed (its body and ids unchanged);
 * - `<source>.bad-signature.json`: the same delivery with a wrong signature, token or secret (401);
 * - `<source>.unknown-connection.json`: the same delivery to a connection id nobody configured (404);
 * - the group membership samples (GROUP_SAMPLES), re-signed like the user-updated ones;
 * - the samples of one connection (CONNECTION_SAMPLES: the second demo tenant's), likewise;
 * - `queue.*.json`: SQS FIFO batches for the queue function, holding the envelopes the webhook
 *   function itself produced for `clerk-queued` deliveries.
 *
 * Bodies stay as committed (tests read them); only what a sender stamps at delivery time changes.
 */

export const SAMPLE_SOURCES = ['clerk', 'workos', 'auth0', 'okta', 'hmac'] as const;
export type SampleSource = (typeof SAMPLE_SOURCES)[number];

type Event = APIGatewayProxyEventV2;

/** Committed group membership samples (file name without `.json`) and the source that signs each. */
const GROUP_SAMPLES: ReadonlyArray<readonly [SampleSource, string]> = [
  ['workos', 'workos.group-user-added'],
  ['clerk', 'clerk.organization-membership-created'],
];

/** Committed samples of one connection (file name without `.json`): its source, its secret. */
const CONNECTION_SAMPLES: ReadonlyArray<readonly [SampleSource, string, 'acme-hmac']> = [
  // The second demo tenant: a user of acme-store, written with the acme credentials.
  ['hmac', 'acme-hmac.user-updated', 'acme-hmac'],
];

export interface SampleEventsOptions {
  /** Epoch milliseconds the deliveries are signed at. */
  at: number;
  /** Folder holding the committed `<source>.user-updated.json` samples. */
  eventsDir?: string;
  secretsFile?: string;
  configFile?: string;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The demo secret of each connection, as config/local-secrets.json holds them. */
const demoSecrets = (file: string, oktaSample: Event) => {
  const all = readJson<Record<string, Record<string, string>>>(file);
  const get = (name: string, key: string): string => {
    const value = all[`ciam-webhook-adapter/${name}`]?.[key];
    if (value === undefined) throw new Error(`${file} has no ${name}.${key}`);
    return value;
  };
  return {
    clerk: get('clerk', 'signingSecret'),
    workos: get('workos', 'signingSecret'),
    auth0: get('auth0', 'token'),
    // No Okta connection runs locally (it calls Okta's Users API back): the sample keeps the
    // secret it was recorded with (the tests' demo Okta connection).
    okta: oktaSample.headers.authorization ?? '',
    hmac: get('hmac', 'secret'),
    // The second demo tenant's connection (tenant `acme`).
    'acme-hmac': get('acme-hmac', 'secret'),
  };
};

const bytesOf = (event: Event): Buffer =>
  Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');

/** API Gateway's request time format: `28/Nov/2026:18:05:00 +0000`. */
const requestTime = (at: number): string => {
  const date = new Date(at);
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
};

const deliveredAt = (event: Event, at: number, headers: Record<string, string>): Event => ({
  ...event,
  headers: { ...event.headers, ...headers },
  requestContext: { ...event.requestContext, time: requestTime(at), timeEpoch: at },
});

/** The source each sample comes from, whose sender signs it. */
const SOURCE_OF_SAMPLE: Record<SampleSource, WebhookSourceType> = {
  clerk: 'standard-webhooks',
  workos: 'workos',
  auth0: 'auth0',
  okta: 'okta',
  hmac: 'hmac',
};

/**
 * Connection id → options, from the config the samples are for: they shape what a sender sends.
 * A sample without a connection there (Okta) is signed with its source's defaults.
 */
const connectionOptions = (configFile: string) => {
  const { connections } = readJson<{
    connections: Array<{ id: string; options?: Record<string, unknown> }>;
  }>(configFile);
  return (id: string | undefined) => connections.find((c) => c.id === id)?.options ?? {};
};

type Signer = (source: SampleSource, event: Event, secret: string) => Record<string, string>;

/** Signs a sample at `at` as its source's sender would, keeping the sample's own id. */
const signerAt =
  (at: number, optionsOf: ReturnType<typeof connectionOptions>): Signer =>
  (source, event, secret) => {
    // Standard Webhooks signs the message id, so the sender needs the one the sample carries.
    const id = event.headers['svix-id'];
    return SENDERS[SOURCE_OF_SAMPLE[source]](
      { body: bytesOf(event), secret, nowMs: at, ...(id === undefined ? {} : { eventId: id }) },
      optionsOf(event.pathParameters?.connectionId),
    );
  };

const WRONG_SECRET = {
  clerk: 'whsec_bm90IHRoZSBkZW1vIHNlY3JldCBhdCBhbGw=',
  workos: 'not-the-workos-secret',
  auth0: 'not-the-auth0-token',
  okta: 'not-the-okta-secret',
  hmac: 'not-the-hmac-secret',
} as const satisfies Record<SampleSource, string>;

/** The same delivery sent to another connection's URL. */
export const forConnection = (event: Event, connectionId: string): Event => ({
  ...event,
  rawPath: `/webhooks/${connectionId}`,
  pathParameters: { connectionId },
  requestContext: {
    ...event.requestContext,
    http: { ...event.requestContext.http, path: `/webhooks/${connectionId}` },
  },
});

const withBody = (event: Event, body: string): Event => ({
  ...event,
  headers: { ...event.headers, 'content-length': String(Buffer.byteLength(body)) },
  body,
  isBase64Encoded: false,
});

const lambdaContext = (functionName: string, requestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:ap-southeast-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: requestId,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'sample',
  getRemainingTimeInMillis: () => 29_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
});

const QUEUE_ARN =
  'arn:aws:sqs:ap-southeast-1:123456789012:ciam-webhook-adapter-dev-changes.fifo' as const;

/**
 * Clerk deliveries to `clerk-queued`, two for Alice (in order: the newer last) and one for Bob,
 * through the real webhook function into a local FIFO queue; one receive gives the batch Lambda
 * would hand the consumer.
 */
const queueBatch = async (
  clerk: Event,
  secret: string,
  sign: Signer,
  options: Required<Omit<SampleEventsOptions, 'eventsDir'>>,
): Promise<SQSEvent> => {
  const { at } = options;
  const queue = createLocalFifoQueue({
    name: 'ciam-webhook-adapter-dev-changes.fifo',
    now: () => at,
    visibilityTimeoutSeconds: 360,
  });
  // Time runs on from `at` for the webhook function: its CIAM rate limiter waits on a moving clock.
  const startedAt = Date.now();
  const clock = () => at + (Date.now() - startedAt);
  // The producer looks each user up in CIAM (the user names the FIFO group): an emulator of its
  // own, with the demo seed, on the same clock so the signed calls are in its window.
  const emulator = await startEmulator({ port: 0, now: clock });
  try {
    const runtime = createRuntime(
      {
        ADAPTER_CONFIG: options.configFile,
        ADAPTER_SECRETS_FILE: options.secretsFile,
        CIAM_ENDPOINT: emulator.url,
      },
      {
        queue,
        now: clock,
        fetch,
        logger: new Logger({ logLevel: 'SILENT' }),
        recordOutcome: () => {},
      },
    );
    await sendQueuedDeliveries(createWebhookHandler(webhookDeps(runtime)), clerk, secret, sign, at);
  } finally {
    await emulator.close();
  }
  return queue.toSqsEvent(queue.receive({ max: 10 }), {
    queueArn: QUEUE_ARN,
    region: 'ap-southeast-1',
  });
};

const sendQueuedDeliveries = async (
  webhook: ReturnType<typeof createWebhookHandler>,
  clerk: Event,
  secret: string,
  sign: Signer,
  at: number,
): Promise<void> => {
  const payload = JSON.parse(clerk.body ?? '{}') as {
    timestamp: number;
    data: Record<string, unknown>;
  };
  const deliveries = [
    {
      id: 'msg_2demoAliceQueued01',
      user: 'ext-alice',
      name: ['alice', 'Alice', 'Queued-1'],
      age: 2_000,
    },
    {
      id: 'msg_2demoAliceQueued02',
      user: 'ext-alice',
      name: ['alice', 'Alice', 'Queued-2'],
      age: 1_000,
    },
    { id: 'msg_2demoBobQueued01', user: 'ext-bob', name: ['bob', 'Bob', 'Queued'], age: 1_500 },
  ];
  for (const [index, delivery] of deliveries.entries()) {
    const occurred = at - delivery.age;
    const body = JSON.stringify({
      ...payload,
      timestamp: occurred,
      data: {
        ...payload.data,
        id: delivery.user,
        username: delivery.name[0],
        first_name: delivery.name[1],
        last_name: delivery.name[2],
        // The sample's contact details are Alice's; Bob's delivery must not claim them.
        email_addresses: [],
        primary_email_address_id: null,
        phone_numbers: [],
        primary_phone_number_id: null,
        updated_at: occurred,
      },
    });
    let event = withBody(forConnection(clerk, 'clerk-queued'), body);
    event = { ...event, headers: { ...event.headers, 'svix-id': delivery.id } };
    event = deliveredAt(event, at, sign('clerk', event, secret));
    const reply = (await webhook(event, lambdaContext('webhook', `sample-${index}`))) as {
      statusCode: number;
      body: string;
    };
    if (reply.statusCode !== 202) {
      throw new Error(`clerk-queued answered ${reply.statusCode}: ${reply.body}`);
    }
  }
};

/** File name (in `events/`) → event. */
export const buildSampleEvents = async (
  options: SampleEventsOptions,
): Promise<Record<string, unknown>> => {
  const eventsDir = options.eventsDir ?? 'events';
  const secretsFile = options.secretsFile ?? 'config/local-secrets.json';
  const configFile = options.configFile ?? 'config/local.json';
  const secrets = demoSecrets(secretsFile, readJson<Event>(`${eventsDir}/okta.user-updated.json`));
  const sign = signerAt(options.at, connectionOptions(configFile));
  const files: Record<string, unknown> = {};
  const samples = {} as Record<SampleSource, Event>;
  for (const source of SAMPLE_SOURCES) {
    const sample = readJson<Event>(`${eventsDir}/${source}.user-updated.json`);
    samples[source] = sample;
    const signed = deliveredAt(sample, options.at, sign(source, sample, secrets[source]));
    files[`${source}.user-updated.json`] = signed;
    files[`${source}.bad-signature.json`] = deliveredAt(
      sample,
      options.at,
      sign(source, sample, WRONG_SECRET[source]),
    );
    files[`${source}.unknown-connection.json`] = forConnection(signed, `no-such-${source}`);
  }
  for (const [source, name] of GROUP_SAMPLES) {
    const sample = readJson<Event>(`${eventsDir}/${name}.json`);
    files[`${name}.json`] = deliveredAt(sample, options.at, sign(source, sample, secrets[source]));
  }
  for (const [source, name, secret] of CONNECTION_SAMPLES) {
    const sample = readJson<Event>(`${eventsDir}/${name}.json`);
    files[`${name}.json`] = deliveredAt(sample, options.at, sign(source, sample, secrets[secret]));
  }
  const verification = readJson<Event>(`${eventsDir}/okta.verification.json`);
  files['okta.verification.json'] = deliveredAt(verification, options.at, {
    authorization: secrets.okta,
  });
  files['queue.clerk-queued.json'] = await queueBatch(samples.clerk, secrets.clerk, sign, {
    at: options.at,
    secretsFile,
    configFile,
  });
  return files;
};

/** `--at`: epoch milliseconds or an ISO time; the current time when absent. */
export const parseAt = (value: string | undefined, now: () => number = Date.now): number => {
  if (value === undefined) return now();
  const at = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(at))
    throw new RangeError(`--at must be epoch milliseconds or an ISO time, not ${value}`);
  return at;
};

/** Writes every sample event into `out`; returns the file names. */
export const writeSampleEvents = async (
  options: SampleEventsOptions & { out: string },
): Promise<string[]> => {
  const files = await buildSampleEvents(options);
  mkdirSync(options.out, { recursive: true });
  for (const [name, event] of Object.entries(files)) {
    writeFileSync(join(options.out, name), `${JSON.stringify(event, null, 2)}\n`);
  }
  return Object.keys(files);
};
