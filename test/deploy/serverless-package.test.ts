import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../lib/errors.ts';
import { buildSampleEvents } from '../../local/sample-events.ts';
import { EMULATOR_USER_STORE_ID, useEmulator } from '../helpers/emulator.ts';

// Packages the service once, offline, exactly as CI and `npm run package` do, and checks the
// CloudFormation template it would deploy: the settings here are the ones that fail silently
// in production (a wrong visibility timeout, a missing ReportBatchItemFailures, a wildcard).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVERLESS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
const SERVICE = 'ciam-webhook-adapter';
const STAGE = 'ci';

type CfValue = unknown;
interface Resource {
  Type: string;
  Properties: Record<string, CfValue>;
  DependsOn?: string | string[];
  Condition?: string;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, CfValue>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: CfValue;
}

let dir: string;
let template: Template;

const getAtt = (logicalId: string, attribute: string) => ({
  'Fn::GetAtt': [logicalId, attribute],
});
const ref = (logicalId: string) => ({ Ref: logicalId });

const resource = (logicalId: string): Resource => {
  const found = template.Resources[logicalId];
  if (found === undefined) throw new Error(`No resource ${logicalId} in the template`);
  return found;
};
const ofType = (type: string) =>
  Object.entries(template.Resources).filter(([, value]) => value.Type === type);

const props = <T>(logicalId: string): T => resource(logicalId).Properties as T;

interface FunctionProps {
  Handler: string;
  Runtime: string;
  Architectures: string[];
  Timeout: number;
  MemorySize: number;
  Role: CfValue;
  ReservedConcurrentExecutions?: number;
  Environment: { Variables: Record<string, CfValue> };
}
interface QueueProps {
  QueueName: string;
  FifoQueue?: boolean;
  ContentBasedDeduplication?: boolean;
  VisibilityTimeout?: number;
  MessageRetentionPeriod?: number;
  RedrivePolicy?: { deadLetterTargetArn: CfValue; maxReceiveCount: number | string };
  RedriveAllowPolicy?: { redrivePermission: string; sourceQueueArns?: CfValue[] };
}
interface RoleProps {
  AssumeRolePolicyDocument: { Statement: { Principal: { Service: string } }[] };
  Policies?: { PolicyDocument: { Statement: Statement[] } }[];
  ManagedPolicyArns?: unknown[];
}
interface RouteThrottle {
  ThrottlingRateLimit?: number;
  ThrottlingBurstLimit?: number;
}
interface StageProps {
  DefaultRouteSettings?: RouteThrottle & { DetailedMetricsEnabled?: boolean };
  RouteSettings?: Record<string, RouteThrottle>;
}
interface AlarmProps {
  AlarmName?: string;
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value: CfValue }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    Period?: number;
    ReturnData?: boolean;
    MetricStat?: {
      Metric: {
        Namespace: string;
        MetricName: string;
        Dimensions: { Name: string; Value: CfValue }[];
      };
    };
  }[];
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions?: CfValue;
  OKActions?: CfValue;
}

const WEBHOOK = 'WebhookLambdaFunction';
const CONSUMER = 'QueueLambdaFunction';
const SCIM = 'ScimLambdaFunction';
const RECONCILE = 'ReconcileLambdaFunction';
const FUNCTIONS = [WEBHOOK, SCIM, CONSUMER, RECONCILE] as const;
const LOG_GROUPS: Record<(typeof FUNCTIONS)[number], string> = {
  [WEBHOOK]: 'WebhookLogGroup',
  [SCIM]: 'ScimLogGroup',
  [CONSUMER]: 'QueueLogGroup',
  [RECONCILE]: 'ReconcileLogGroup',
};
const DEFAULT_RETENTION_SECONDS = 345_600;

const queueId = (suffix: string): string => {
  const name = `${SERVICE}-${STAGE}-${suffix}`;
  const found = ofType('AWS::SQS::Queue').find(
    ([, value]) => (value.Properties as unknown as QueueProps).QueueName === name,
  );
  if (found === undefined) throw new Error(`No queue named ${name}`);
  return found[0];
};

const roleOf = (functionId: string): string => {
  const role = props<FunctionProps>(functionId).Role as { 'Fn::GetAtt'?: [string, string] };
  const roleId = role['Fn::GetAtt']?.[0];
  if (roleId === undefined) throw new Error(`${functionId} has no in-stack role`);
  return roleId;
};

const statementsOf = (roleId: string): Statement[] =>
  (props<RoleProps>(roleId).Policies ?? []).flatMap((policy) => policy.PolicyDocument.Statement);

const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const resourcesOf = (statement: Statement): CfValue[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];

/** Every service action a role allows, as "action on resource" pairs, for exact comparisons. */
const grants = (roleId: string, service: string) =>
  statementsOf(roleId)
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) =>
      actionsOf(statement)
        .filter((action) => action.startsWith(`${service}:`))
        .flatMap((action) =>
          resourcesOf(statement).map((target) => `${action} on ${JSON.stringify(target)}`),
        ),
    )
    .sort();

/** File names in a zip, from its central directory (no dependency for one listing). */
const zipEntries = (zip: Buffer): string[] => {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end === -1) throw new Error('Not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error('Bad zip central directory');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
};

/** One file's bytes from a zip (stored or deflated), found through the central directory. */
const zipFile = (zip: Buffer, wanted: string): Buffer => {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let index = 0; index < count; index++) {
    const method = zip.readUInt16LE(offset + 10);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    if (zip.toString('utf8', offset + 46, offset + 46 + nameLength) === wanted) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return method === 0 ? data : inflateRawSync(data);
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${wanted} is not in the zip`);
};

describe('serverless package', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sls-package-'));
    await promisify(execFile)(
      process.execPath,
      [SERVERLESS, 'package', '--stage', STAGE, '--package', dir],
      {
        cwd: ROOT,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    template = JSON.parse(
      await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
  }, 180_000);

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('builds one zip per function with the bundle and the shipped config, never local secrets', async () => {
    for (const name of ['webhook', 'scim', 'queue', 'reconcile']) {
      const zip = await readFile(join(dir, `${name}.zip`));
      expect((await stat(join(dir, `${name}.zip`))).size).toBeGreaterThan(0);
      const entries = zipEntries(zip);
      expect(entries).toContain(`handlers/${name}.js`);
      expect(entries).toContain('config/production.json');
      expect(entries).not.toContain('config/local-secrets.json');
      expect(entries).not.toContain('config/schema.json');
      expect(entries.some((entry) => entry.startsWith('node_modules/'))).toBe(false);
    }
  });

  it('ships ESM handlers that Lambda loads as ESM: the Handler names the zipped .js file, type module beside it', async () => {
    for (const [name, id] of [
      ['webhook', WEBHOOK],
      ['scim', SCIM],
      ['queue', CONSUMER],
      ['reconcile', RECONCILE],
    ] as const) {
      const handler = props<FunctionProps>(id).Handler;
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      const zip = await readFile(join(dir, `${name}.zip`));
      const bundle = zipFile(zip, file).toString('utf8');
      // An ESM bundle: import/export syntax, no CommonJS wrapper.
      expect(bundle, file).toMatch(/^import \{ createRequire/);
      expect(bundle, file).toMatch(/export\s*\{[^}]*\bhandler\b/);
      expect(bundle, file).not.toMatch(/\bmodule\.exports\s*=/);
      // No AWS SDK inside: lib/aws/sdk.ts loads the runtime's on first use, by this name.
      expect(bundle, file).not.toMatch(/@smithy|aws-sdk-js|x-amz-user-agent/);
      expect(bundle, file).toContain('@aws-sdk/client-secrets-manager');
      const marker = JSON.parse(zipFile(zip, 'handlers/package.json').toString('utf8'));
      expect(marker.type, `${name}.zip handlers/package.json`).toBe('module');
    }
  });

  it('runs every function on nodejs22.x / arm64 with the handlers from handlers/', () => {
    expect(props<FunctionProps>(WEBHOOK).Handler).toBe('handlers/webhook.handler');
    expect(props<FunctionProps>(SCIM).Handler).toBe('handlers/scim.handler');
    expect(props<FunctionProps>(CONSUMER).Handler).toBe('handlers/queue.handler');
    for (const id of FUNCTIONS) {
      const fn = props<FunctionProps>(id);
      expect(fn.Runtime, id).toBe('nodejs22.x');
      expect(fn.Architectures, id).toEqual(['arm64']);
      expect(fn.MemorySize, id).toBe(512);
    }
  });

  it('routes ANY /webhooks/{connectionId} to the webhook and ANY /scim/v2/{connectionId}/{proxy+} to the SCIM function, within API Gateway’s 30 s', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(
      ([, value]) => value.Properties as { RouteKey: string; Target: CfValue },
    );
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([
      'ANY /scim/v2/{connectionId}/{proxy+}',
      'ANY /webhooks/{connectionId}',
    ]);
    const integrations = ofType('AWS::ApiGatewayV2::Integration').map(
      ([, value]) => value.Properties as { IntegrationUri: CfValue },
    );
    expect(integrations.map((integration) => integration.IntegrationUri)).toEqual(
      expect.arrayContaining([getAtt(WEBHOOK, 'Arn'), getAtt(SCIM, 'Arn')]),
    );
    expect(integrations).toHaveLength(2);
    expect(props<FunctionProps>(WEBHOOK).Timeout).toBeLessThan(30);
    expect(props<FunctionProps>(SCIM).Timeout).toBeLessThan(30);
  });

  it('throttles the HTTP API stage: the webhooks by the default route settings, SCIM by its own route', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const [[stageId, stage]] = stages as [[string, Resource]];
    const settings = stage.Properties as unknown as StageProps;
    const webhook = settings.DefaultRouteSettings ?? {};
    const routes = ofType('AWS::ApiGatewayV2::Route').map(
      ([id, value]) => [id, (value.Properties as { RouteKey: string }).RouteKey] as const,
    );
    const [scimRouteId, scimRouteKey] = routes.find(([, key]) => key.includes('/scim/')) ?? [];
    // Exactly the SCIM route has settings of its own; every other route takes the default.
    expect(Object.keys(settings.RouteSettings ?? {})).toEqual([scimRouteKey]);
    const scim = settings.RouteSettings?.[scimRouteKey ?? ''] ?? {};
    for (const [name, throttle] of [
      ['webhook', webhook],
      ['scim', scim],
    ] as const) {
      // Numbers, set, and far below API Gateway's account-wide 10,000/s and 5,000 burst: what a
      // flood can cost is bounded by the stage, not by the account.
      expect(typeof throttle.ThrottlingRateLimit, name).toBe('number');
      expect(typeof throttle.ThrottlingBurstLimit, name).toBe('number');
      expect(throttle.ThrottlingRateLimit, name).toBeGreaterThan(0);
      expect(throttle.ThrottlingRateLimit, name).toBeLessThanOrEqual(100);
      expect(throttle.ThrottlingBurstLimit, name).toBeGreaterThanOrEqual(
        throttle.ThrottlingRateLimit ?? Number.POSITIVE_INFINITY,
      );
      expect(throttle.ThrottlingBurstLimit, name).toBeLessThanOrEqual(500);
    }
    // Entra ID asks a SCIM endpoint to take 25 requests per second per tenant.
    expect(scim.ThrottlingRateLimit).toBeGreaterThanOrEqual(25);
    // osls's own stage setting survives the override.
    expect(webhook.DetailedMetricsEnabled).toBe(false);
    // A route setting names a route key, so the stage must wait for that route.
    const dependsOn = [stage.DependsOn ?? []].flat();
    expect(dependsOn, stageId).toContain(scimRouteId);
  });

  it('reserves concurrency for the public functions and leaves the account room', () => {
    const reserved = FUNCTIONS.map((id) => [
      id,
      props<FunctionProps>(id).ReservedConcurrentExecutions,
    ]);
    for (const [id, count] of reserved) {
      expect(typeof count, String(id)).toBe('number');
      expect(count, String(id)).toBeGreaterThan(0);
    }
    // AWS keeps 100 executions unreserved; the default account quota is 1,000. The three
    // functions together take a small share of what is left.
    const total = reserved.reduce((sum, [, count]) => sum + Number(count), 0);
    expect(total).toBeLessThanOrEqual(100);
    // The stage's sustained rate must fit the webhook's reservation at a sub-second request:
    // otherwise every second of steady traffic would hit Lambda's throttle instead of the 429.
    const stage = ofType('AWS::ApiGatewayV2::Stage')[0]?.[1].Properties as unknown as StageProps;
    const rate = stage.DefaultRouteSettings?.ThrottlingRateLimit ?? Number.POSITIVE_INFINITY;
    expect(props<FunctionProps>(WEBHOOK).ReservedConcurrentExecutions).toBeGreaterThanOrEqual(
      rate * 0.25,
    );
  });

  it('creates a FIFO queue and a FIFO dead-letter queue with producer-set deduplication', () => {
    for (const id of [queueId('changes.fifo'), queueId('changes-dlq.fifo')]) {
      const queue = props<QueueProps>(id);
      expect(queue.FifoQueue, id).toBe(true);
      expect(queue.ContentBasedDeduplication, id).toBe(false);
    }
  });

  it('dead-letters after maxReceiveCount >= 5 receives, the count the consumer is told', () => {
    const source = props<QueueProps>(queueId('changes.fifo'));
    const dlqId = queueId('changes-dlq.fifo');
    expect(source.RedrivePolicy?.deadLetterTargetArn).toEqual(getAtt(dlqId, 'Arn'));
    const maxReceiveCount = Number(source.RedrivePolicy?.maxReceiveCount);
    expect(maxReceiveCount).toBeGreaterThanOrEqual(5);
    const env = props<FunctionProps>(CONSUMER).Environment.Variables;
    expect(env.QUEUE_MAX_RECEIVE_COUNT).toBe(String(maxReceiveCount));
  });

  it('keeps dead letters longer than the source keeps messages and lets only the source use the DLQ', () => {
    const source = props<QueueProps>(queueId('changes.fifo'));
    const dlq = props<QueueProps>(queueId('changes-dlq.fifo'));
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(dlq.MessageRetentionPeriod ?? DEFAULT_RETENTION_SECONDS).toBeGreaterThan(
      source.MessageRetentionPeriod ?? DEFAULT_RETENTION_SECONDS,
    );
    expect(dlq.RedriveAllowPolicy?.redrivePermission).toBe('byQueue');
    expect(JSON.stringify(dlq.RedriveAllowPolicy?.sourceQueueArns)).toContain(
      `"${source.QueueName}"`,
    );
  });

  it('sets the visibility timeout to at least 6 x the consumer timeout', () => {
    const source = props<QueueProps>(queueId('changes.fifo'));
    const timeout = props<FunctionProps>(CONSUMER).Timeout;
    expect(source.VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('maps the queue to the consumer: 10 per batch, partial failures, 2 at a time, no window', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(
      ([, value]) => value.Properties as Record<string, CfValue>,
    );
    expect(mappings).toHaveLength(1);
    const [mapping] = mappings;
    expect(mapping).toMatchObject({
      EventSourceArn: getAtt(queueId('changes.fifo'), 'Arn'),
      FunctionName: getAtt(CONSUMER, 'Arn'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      Enabled: true,
    });
    expect(mapping).not.toHaveProperty('MaximumBatchingWindowInSeconds');
    // Reserved concurrency below the mapping's maximum would throttle it (and throttled receives
    // count toward maxReceiveCount).
    expect(props<FunctionProps>(CONSUMER).ReservedConcurrentExecutions).toBeGreaterThanOrEqual(
      (mapping?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ??
        Number.POSITIVE_INFINITY,
    );
  });

  it('gives each function its own role and no shared default role', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    const roles = FUNCTIONS.map(roleOf);
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
    for (const roleId of roles) {
      const role = props<RoleProps>(roleId);
      expect(role.AssumeRolePolicyDocument.Statement.map((s) => s.Principal.Service)).toEqual([
        'lambda.amazonaws.com',
      ]);
      expect(role.ManagedPolicyArns ?? []).toEqual([]);
    }
    expect(ofType('AWS::IAM::Policy')).toEqual([]);
    expect(ofType('AWS::IAM::ManagedPolicy')).toEqual([]);
  });

  it('names specific resources in every statement: no "*" and no wildcard actions', () => {
    for (const functionId of FUNCTIONS) {
      const roleId = roleOf(functionId);
      for (const statement of statementsOf(roleId)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) expect(action, roleId).not.toContain('*');
        for (const target of resourcesOf(statement)) {
          expect(target, roleId).not.toBe('*');
          if (typeof target === 'string') expect(target, roleId).not.toMatch(/(^|:)\*$/);
        }
      }
      // Secrets: only the service's prefix (connection secrets, then other tenants' credentials).
      const prefix = `secretsmanager:GetSecretValue on ${JSON.stringify({
        'Fn::Join': [
          ':',
          [
            'arn',
            ref('AWS::Partition'),
            'secretsmanager',
            ref('AWS::Region'),
            ref('AWS::AccountId'),
            'secret',
            `${SERVICE}/*`,
          ],
        ],
      })}`;
      expect(grants(roleId, 'secretsmanager')).toEqual([prefix, prefix]);
      // Logs: only the function's own log group.
      const logGroup = LOG_GROUPS[functionId];
      expect(grants(roleId, 'logs')).toEqual(
        ['logs:CreateLogStream', 'logs:PutLogEvents'].map(
          (action) => `${action} on ${JSON.stringify(getAtt(logGroup, 'Arn'))}`,
        ),
      );
    }
  });

  it('needs no permission for the bounds: no role may touch CloudWatch, API Gateway or Lambda', () => {
    // Metrics leave as EMF log lines; throttling and reserved concurrency are the template's.
    for (const functionId of FUNCTIONS) {
      const roleId = roleOf(functionId);
      for (const service of ['cloudwatch', 'apigateway', 'execute-api', 'lambda', 'iam']) {
        expect(grants(roleId, service), `${roleId} ${service}`).toEqual([]);
      }
      const services = new Set(
        statementsOf(roleId).flatMap((statement) =>
          actionsOf(statement).map((action) => action.split(':')[0]),
        ),
      );
      expect([...services].sort(), roleId).toEqual(
        functionId === SCIM ? ['logs', 'secretsmanager'] : ['logs', 'secretsmanager', 'sqs'],
      );
    }
  });

  it('gives the SCIM function no queue access at all', () => {
    expect(grants(roleOf(SCIM), 'sqs')).toEqual([]);
  });

  it('lets the webhook only send to the queue', () => {
    expect(grants(roleOf(WEBHOOK), 'sqs')).toEqual([
      `sqs:SendMessage on ${JSON.stringify(getAtt(queueId('changes.fifo'), 'Arn'))}`,
    ]);
  });

  it('gives the consumer exactly what the mapping and its dead-lettering need', () => {
    const queue = JSON.stringify(getAtt(queueId('changes.fifo'), 'Arn'));
    const dlq = JSON.stringify(getAtt(queueId('changes-dlq.fifo'), 'Arn'));
    expect(grants(roleOf(CONSUMER), 'sqs')).toEqual(
      [
        `sqs:ChangeMessageVisibility on ${queue}`,
        `sqs:DeleteMessage on ${queue}`,
        `sqs:GetQueueAttributes on ${queue}`,
        `sqs:ReceiveMessage on ${queue}`,
        `sqs:SendMessage on ${dlq}`,
      ].sort(),
    );
  });

  it('alarms on dead letters, consumer errors and the webhook 5xx rate', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(
      ([, value]) => value.Properties as unknown as AlarmProps,
    );
    const dlq = alarms.find((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(queueId('changes-dlq.fifo'), 'QueueName') }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const errors = alarms.find((alarm) => alarm.MetricName === 'Errors');
    expect(errors).toMatchObject({
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: ref(CONSUMER) }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const rate = alarms.find((alarm) =>
      alarm.Metrics?.some((metric) => metric.MetricStat?.Metric.MetricName === '5xx'),
    );
    const stats = (rate?.Metrics ?? []).flatMap((metric) =>
      metric.MetricStat === undefined ? [] : [metric.MetricStat.Metric],
    );
    expect(stats.map((metric) => metric.MetricName).sort()).toEqual(['5xx', 'Count']);
    for (const metric of stats) {
      expect(metric.Namespace).toBe('AWS/ApiGateway');
      expect(metric.Dimensions).toEqual([{ Name: 'ApiId', Value: ref('HttpApi') }]);
    }
    expect(rate?.Metrics?.filter((metric) => metric.ReturnData !== false)).toHaveLength(1);
    expect(rate?.Threshold).toBeGreaterThan(0);
    expect(rate?.Threshold).toBeLessThan(100);
  });

  it('alarms when Lambda throttles the webhook or the SCIM function', () => {
    const throttles = ofType('AWS::CloudWatch::Alarm')
      .map(([, value]) => value.Properties as unknown as AlarmProps)
      .filter((alarm) => alarm.Namespace === 'AWS/Lambda' && alarm.MetricName === 'Throttles');
    expect(throttles.map((alarm) => alarm.Dimensions)).toEqual([
      [{ Name: 'FunctionName', Value: ref(WEBHOOK) }],
      [{ Name: 'FunctionName', Value: ref(SCIM) }],
    ]);
    for (const alarm of throttles) {
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it('alarms per connection on 401s (token guessing) and on refused source addresses, from the functions’ own metric', () => {
    const namespace = props<FunctionProps>(WEBHOOK).Environment.Variables;
    const insights = ofType('AWS::CloudWatch::Alarm')
      .map(([, value]) => value.Properties as unknown as AlarmProps)
      .flatMap((alarm) =>
        (alarm.Metrics ?? [])
          .filter((metric) => metric.Expression?.startsWith('SELECT SUM(Events) '))
          .map((metric) => ({ alarm, metric })),
      );
    const byOutcome = new Map(
      insights.map(({ alarm, metric }) => [
        /WHERE outcome = '([A-Z_]+)'/.exec(metric.Expression ?? '')?.[1],
        { alarm, metric },
      ]),
    );
    expect([...byOutcome.keys()].sort()).toEqual(['SIGNATURE_INVALID', 'SOURCE_IP_NOT_ALLOWED']);
    for (const [outcome, { alarm, metric }] of byOutcome) {
      expect(Object.hasOwn(ERRORS, outcome ?? '')).toBe(true);
      // lib/metrics.ts: metric Events, dimensions service (Powertools), connection and outcome,
      // in the namespace the functions are given.
      expect(metric.Expression).toBe(
        `SELECT SUM(Events) FROM SCHEMA("${String(namespace.POWERTOOLS_METRICS_NAMESPACE)}", connection, outcome, service) WHERE outcome = '${outcome}' GROUP BY connection`,
      );
      expect(metric).toMatchObject({ ReturnData: true, Period: 300 });
      expect(alarm.ComparisonOperator).toBe('GreaterThanThreshold');
    }
    // A guessed token or a forged signature now and then is noise; a run of them is not. Any
    // refusal of an allow-listed connection matters: it may be the sender's new address.
    expect(byOutcome.get('SIGNATURE_INVALID')?.alarm.Threshold).toBeGreaterThan(0);
    expect(byOutcome.get('SOURCE_IP_NOT_ALLOWED')?.alarm.Threshold).toBe(0);
  });

  it('reconciles on no schedule unless the stage lists one, sends only to the queue, alarms on drift', () => {
    const reconcile = props<FunctionProps>(RECONCILE);
    expect(reconcile.Handler).toBe('handlers/reconcile.handler');
    expect(reconcile.Timeout).toBe(900);
    expect(reconcile.ReservedConcurrentExecutions).toBe(1);
    expect(reconcile.Environment.Variables.QUEUE_URL).toEqual(ref(queueId('changes.fifo')));
    expect(ofType('AWS::Events::Rule')).toEqual([]);
    expect(grants(roleOf(RECONCILE), 'sqs')).toEqual([
      `sqs:SendMessage on ${JSON.stringify(getAtt(queueId('changes.fifo'), 'Arn'))}`,
    ]);
    const namespace = String(
      props<FunctionProps>(WEBHOOK).Environment.Variables.POWERTOOLS_METRICS_NAMESPACE,
    );
    const drift = ofType('AWS::CloudWatch::Alarm')
      .map(([, value]) => value.Properties as unknown as AlarmProps)
      .find((alarm) => alarm.Metrics?.some((metric) => metric.Expression?.includes('Drift')));
    // lib/metrics.ts metricsDrift: metric Drift, dimensions service (Powertools) and connection.
    expect(drift?.Metrics?.[0]?.Expression).toBe(
      `SELECT MAX(Drift) FROM SCHEMA("${namespace}", connection, service) GROUP BY connection`,
    );
    expect(drift).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('notifies the alarm topic only when the alarmTopicArn param is set', () => {
    // Packaged without the param: the condition compares '' with ''.
    expect(template.Conditions?.HasAlarmTopic).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      for (const key of ['AlarmActions', 'OKActions']) {
        const actions = alarm.Properties[key] as { 'Fn::If'?: unknown[] } | undefined;
        expect(actions?.['Fn::If']?.[0], `${id}.${key}`).toBe('HasAlarmTopic');
        expect(actions?.['Fn::If']?.[2], `${id}.${key}`).toEqual(ref('AWS::NoValue'));
      }
    }
  });

  it('passes the queue URLs and rate limits as environment, and no secret values', () => {
    const webhook = props<FunctionProps>(WEBHOOK).Environment.Variables;
    const consumer = props<FunctionProps>(CONSUMER).Environment.Variables;
    const scim = props<FunctionProps>(SCIM).Environment.Variables;
    const queue = queueId('changes.fifo');
    const dlq = queueId('changes-dlq.fifo');
    expect(webhook.QUEUE_URL).toEqual(ref(queue));
    expect(consumer.QUEUE_URL).toEqual(ref(queue));
    expect(consumer.DLQ_URL).toEqual(ref(dlq));
    expect(webhook).not.toHaveProperty('DLQ_URL');
    // 2 consumer instances x 10/s = CIAM's 20 requests/s.
    expect(Number(consumer.CIAM_RATE_LIMIT_PER_SECOND) * 2).toBeLessThanOrEqual(20);
    // Sync callers give up after 3-15 s.
    expect(Number(webhook.CIAM_RATE_LIMIT_MAX_WAIT_MS)).toBeLessThanOrEqual(3000);
    expect(Number(scim.CIAM_RATE_LIMIT_MAX_WAIT_MS)).toBeLessThanOrEqual(3000);
    expect(scim).not.toHaveProperty('DLQ_URL');
    for (const [id, env] of [
      [WEBHOOK, webhook],
      [SCIM, scim],
      [CONSUMER, consumer],
    ] as const) {
      // Local-only switches must not reach Lambda (the `local` stage's params are not used here).
      expect(env, id).not.toHaveProperty('ADAPTER_SECRETS_FILE');
      expect(env.CIAM_ENDPOINT ?? '', id).toBe('');
      for (const [name, value] of Object.entries(env)) {
        const where = `${id} ${name}`;
        if (typeof value !== 'string') {
          // A CloudFormation reference (a URL or ARN at deploy time).
          expect(Object.keys(value as object), where).toEqual([
            expect.stringMatching(/^(Ref|Fn::GetAtt|Fn::Join|Fn::Sub)$/),
          ]);
          continue;
        }
        if (name.endsWith('_SECRET_NAME')) {
          // The name of a secret (a param): name-shaped or empty, never a value.
          expect(value, where).toMatch(/^[A-Za-z0-9/_+=.@-]{0,512}$/);
        } else {
          expect(name, where).not.toMatch(
            /SECRET(?!S_FILE)|PASSWORD|TOKEN|PRIVATE|API_KEY|CREDENTIAL/,
          );
        }
        expect(value, where).not.toMatch(/-----BEGIN|^(sk|whsec|AKIA|AKID)[_A-Za-z0-9]/);
        // Long unbroken base64/hex runs look like keys, not names.
        expect(value, where).not.toMatch(/[A-Za-z0-9+/=_]{32,}/);
      }
    }
  });
});

const EXTENSION_LAYER =
  'arn:aws:lambda:ap-southeast-1:123456789012:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:12';

describe('serverless.yml stage params', () => {
  const print = async (...params: string[]) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        SERVERLESS,
        'print',
        '--format',
        'json',
        '--stage',
        STAGE,
        ...params.map((p) => `--param=${p}`),
      ],
      {
        cwd: ROOT,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return JSON.parse(stdout) as {
      provider: { environment: Record<string, unknown>; layers: unknown };
      functions: Record<string, { reservedConcurrency?: unknown }>;
      resources: {
        Resources: Record<string, { Properties: RoleProps }>;
        extensions: { HttpApiStage: { Properties: StageProps } };
      };
    };
  };
  const secretResources = (printed: Awaited<ReturnType<typeof print>>, role: string) =>
    (printed.resources.Resources[role]?.Properties.Policies ?? [])
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .flatMap(resourcesOf);

  it('uses the stage’s config file, credentials secret name, secret ARNs and CIAM endpoint when given', async () => {
    const clerk =
      'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ciam-webhook-adapter/ci/clerk-??????';
    // Another tenant's credentials, outside the service's prefix: granted by name, nothing more.
    const acme =
      'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:acme/ciam-credentials-??????';
    const printed = await print(
      'configFile=staging.json',
      'ciamCredentialsSecret=ciam-webhook-adapter/ci/ciam-credentials',
      `secretArns=${clerk}`,
      `tenantCredentialsSecrets=${acme}`,
      'ciamEndpoint=https://ciam.intl.tencentcloudapi.com',
      `secretsExtensionLayers=${EXTENSION_LAYER}`,
    );
    // Every function gets the extension layer (provider level); the code finds it at runtime.
    expect(printed.provider.layers).toEqual([EXTENSION_LAYER]);
    expect(printed.provider.environment).toMatchObject({
      ADAPTER_CONFIG: 'config/staging.json',
      CIAM_CREDENTIALS_SECRET_NAME: 'ciam-webhook-adapter/ci/ciam-credentials',
      CIAM_ENDPOINT: 'https://ciam.intl.tencentcloudapi.com',
    });
    for (const role of ['WebhookRole', 'QueueRole', 'ReconcileRole']) {
      expect(secretResources(printed, role), role).toEqual([clerk, acme]);
    }
    expect(secretResources(printed, 'ScimRole').at(-1)).toBe(acme);
  }, 60_000);

  it("lets the reconcile role read only reconcileSecretArns (and the tenants' credentials) when given", async () => {
    const signing =
      'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ciam-webhook-adapter/ci/clerk-??????';
    const api =
      'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:ciam-webhook-adapter/ci/clerk-api-??????';
    const acme =
      'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:acme/ciam-credentials-??????';
    const printed = await print(
      `secretArns=${signing}`,
      `reconcileSecretArns=${api}`,
      `tenantCredentialsSecrets=${acme}`,
    );
    expect(secretResources(printed, 'WebhookRole')).toEqual([signing, acme]);
    expect(secretResources(printed, 'ReconcileRole')).toEqual([api, acme]);
  }, 60_000);

  it('schedules a reconciliation per connection the stage lists (the local stage shows the form)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [SERVERLESS, 'print', '--format', 'json', '--stage', 'local'],
      {
        cwd: ROOT,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const printed = JSON.parse(stdout) as {
      functions: Record<string, { events?: { schedule?: { input?: unknown } }[] }>;
    };
    expect(printed.functions.reconcile?.events?.map((event) => event.schedule?.input)).toEqual([
      { connectionId: 'clerk' },
    ]);
  }, 60_000);

  it('takes the stage’s throttling and reserved concurrency when given', async () => {
    const printed = await print(
      'webhookThrottleRate=5',
      'webhookThrottleBurst=10',
      'scimThrottleRate=30',
      'scimThrottleBurst=60',
      'webhookReservedConcurrency=7',
      'scimReservedConcurrency=4',
    );
    const stage = printed.resources.extensions.HttpApiStage.Properties;
    // Values given on the command line arrive as text; CloudFormation reads them as numbers.
    expect(stage.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: '5',
      ThrottlingBurstLimit: '10',
    });
    expect(Object.values(stage.RouteSettings ?? {})).toEqual([
      { ThrottlingRateLimit: '30', ThrottlingBurstLimit: '60' },
    ]);
    expect(printed.functions.webhook?.reservedConcurrency).toBe(7);
    expect(printed.functions.scim?.reservedConcurrency).toBe(4);
  }, 60_000);

  it('defaults to the config’s names and the ciam-webhook-adapter/ prefix of the stage’s account', async () => {
    const printed = await print();
    expect(printed.provider.environment).toMatchObject({
      ADAPTER_CONFIG: 'config/production.json',
      CIAM_CREDENTIALS_SECRET_NAME: '',
      CIAM_ENDPOINT: '',
    });
    expect(printed.provider.layers).toEqual([]);
    for (const role of ['WebhookRole', 'QueueRole', 'ScimRole']) {
      const resources = secretResources(printed, role) as Array<{
        'Fn::Join': [string, unknown[]];
      }>;
      expect(
        resources.map((resource) => resource['Fn::Join'][1].at(-1)),
        role,
      ).toEqual(['ciam-webhook-adapter/*', 'ciam-webhook-adapter/*']);
    }
  }, 60_000);
});

// What a Serverless user tries first: `serverless invoke local` on a sample event, run as the
// README says (`--stage local`, the bundle built by serverless-esbuild), against an emulator this
// test starts. Proves the ESM bundle loads under invoke local and answers for real. In this file
// because both build into .esbuild/: two files running at once would overwrite each other.

const emulator = useEmulator({ rateLimit: 0 });
let eventsDir: string;

const invokeLocal = async (fn: string, eventFile: string) => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      SERVERLESS,
      'invoke',
      'local',
      '-f',
      fn,
      '-p',
      eventFile,
      '--stage',
      'local',
      // The emulator's random port replaces the local stage's 3100.
      `--param=ciamEndpoint=${emulator().url}`,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  // The handler's answer is the last JSON document printed (log lines come before it).
  const start = stdout.lastIndexOf('\n{\n');
  return JSON.parse(stdout.slice(start === -1 ? 0 : start)) as Record<string, unknown>;
};

describe('serverless invoke local --stage local', () => {
  beforeAll(async () => {
    eventsDir = await mkdtemp(join(tmpdir(), 'invoke-local-'));
    const files = await buildSampleEvents({ at: Date.now() });
    for (const [name, event] of Object.entries(files)) {
      await writeFile(join(eventsDir, name), JSON.stringify(event));
    }
  });

  afterAll(async () => {
    if (eventsDir !== undefined) await rm(eventsDir, { recursive: true, force: true });
  });

  it('applies a freshly signed Clerk sample through the bundled webhook function', async () => {
    const reply = await invokeLocal('webhook', join(eventsDir, 'clerk.user-updated.json'));
    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(String(reply.body))).toMatchObject({
      status: 'applied',
      eventId: 'msg_2demoAliceUserUpdated01',
      userId: 'demo-user-1',
    });
    // The phone went through libphonenumber-js, which the bundle loads on first use (lib/require-on-first-use.ts).
    expect(emulator().store.getUser(EMULATOR_USER_STORE_ID, 'demo-user-1')).toMatchObject({
      Nickname: 'Alice Anders',
      PhoneNumber: '+6591234561',
    });
  }, 120_000);
});
