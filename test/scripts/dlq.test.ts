import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDlqCli } from '../../scripts/dlq.ts';

const ACCOUNT = '123456789012';
const QUEUE_NAME = 'ciam-webhook-adapter-prod-changes.fifo';
const DLQ_NAME = 'ciam-webhook-adapter-prod-changes-dlq.fifo';
const url = (region: string, name: string) =>
  `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}`;
const arn = (region: string, name: string) => `arn:aws:sqs:${region}:${ACCOUNT}:${name}`;

const sqs = mockClient(SQSClient);

const BODY = '{"subject":{"email":"ada@example.com"},"draft":{"Nickname":"Ada"}}';
const deadLetter = {
  MessageId: 'm-1',
  ReceiptHandle: 'rh-1',
  Body: BODY,
  Attributes: {
    MessageGroupId: 'clerk-main:email:0123abcd',
    MessageDeduplicationId: 'orig-1',
    SentTimestamp: String(Date.parse('2026-05-01T10:00:00.000Z')),
    ApproximateReceiveCount: '1',
    DeadLetterQueueSourceArn: arn('eu-west-1', QUEUE_NAME),
  },
  MessageAttributes: {
    errorCode: { DataType: 'String', StringValue: 'USER_NOT_FOUND' },
    upstreamCode: { DataType: 'String', StringValue: 'ResourceNotFound.UserNotExist' },
    upstreamRequestId: { DataType: 'String', StringValue: 'req-9' },
    attempts: { DataType: 'Number', StringValue: '5' },
    firstErrorAt: { DataType: 'String', StringValue: '2026-05-01T09:00:00.000Z' },
    lastErrorAt: { DataType: 'String', StringValue: '2026-05-01T09:59:00.000Z' },
    connectionId: { DataType: 'String', StringValue: 'clerk-main' },
    eventId: { DataType: 'String', StringValue: 'evt_1' },
    reason: { DataType: 'String', StringValue: 'permanent' },
    email: { DataType: 'String', StringValue: 'ada@example.com' },
  },
};

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const regions: string[] = [];
  const code = await runDlqCli(argv, {
    sqsClient: (region) => {
      regions.push(region);
      return new SQSClient({ region });
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), regions };
};

const resolvesStage = (region: string) => {
  sqs
    .on(GetQueueUrlCommand, { QueueName: QUEUE_NAME })
    .resolves({ QueueUrl: url(region, QUEUE_NAME) })
    .on(GetQueueUrlCommand, { QueueName: DLQ_NAME })
    .resolves({ QueueUrl: url(region, DLQ_NAME) })
    .on(GetQueueAttributesCommand, { QueueUrl: url(region, QUEUE_NAME) })
    .resolves({
      Attributes: {
        QueueArn: arn(region, QUEUE_NAME),
        ApproximateNumberOfMessages: '4',
        ApproximateNumberOfMessagesNotVisible: '1',
      },
    })
    .on(GetQueueAttributesCommand, { QueueUrl: url(region, DLQ_NAME) })
    .resolves({
      Attributes: {
        QueueArn: arn(region, DLQ_NAME),
        ApproximateNumberOfMessages: '2',
        ApproximateNumberOfMessagesNotVisible: '0',
      },
    });
};

describe('scripts/dlq (AWS)', () => {
  beforeEach(() => sqs.reset());
  afterEach(() => sqs.reset());

  describe('list', () => {
    it('finds the DLQ by stage and prints ids, group, time, receives and reasons, not the body', async () => {
      resolvesStage('eu-west-1');
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [deadLetter] })
        .resolves({});
      const result = await run(['list', '--stage', 'prod', '--region', 'eu-west-1']);
      expect(result.code).toBe(0);
      expect(result.regions).toEqual(['eu-west-1']);
      expect(sqs.commandCalls(GetQueueUrlCommand).map((call) => call.args[0].input)).toEqual([
        { QueueName: DLQ_NAME },
      ]);
      expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input).toMatchObject({
        QueueUrl: url('eu-west-1', DLQ_NAME),
        MessageAttributeNames: ['All'],
      });
      expect(result.out).toContain(`1 dead letter(s) in ${url('eu-west-1', DLQ_NAME)}`);
      for (const line of [
        /^m-1$/m,
        /group\s+clerk-main:email:0123abcd/,
        /sent\s+2026-05-01T10:00:00\.000Z/,
        /receives\s+1/,
        /errorCode\s+USER_NOT_FOUND/,
        /upstreamCode\s+ResourceNotFound\.UserNotExist/,
        /upstreamRequestId\s+req-9/,
        /attempts\s+5/,
        /firstErrorAt\s+2026-05-01T09:00:00\.000Z/,
        /lastErrorAt\s+2026-05-01T09:59:00\.000Z/,
        /connectionId\s+clerk-main/,
        /eventId\s+evt_1/,
        /reason\s+permanent/,
      ]) {
        expect(result.out).toMatch(line);
      }
      // Neither the body nor an attribute outside the reason list (here: an email).
      expect(result.out).not.toContain('ada@example.com');
      expect(result.out).not.toContain('Nickname');
      expect(result.err).toContain('stay hidden for 30 s');
    });

    it('prints the body with --show-body, as JSON with --json', async () => {
      sqs
        .on(ReceiveMessageCommand)
        .resolvesOnce({ Messages: [deadLetter] })
        .resolves({});
      const result = await run([
        'list',
        '--dlq-url',
        url('eu-central-1', DLQ_NAME),
        '--show-body',
        '--json',
      ]);
      expect(result.code).toBe(0);
      // The region comes from the queue URL.
      expect(result.regions).toEqual(['eu-central-1']);
      expect(JSON.parse(result.out)).toEqual([
        {
          messageId: 'm-1',
          groupId: 'clerk-main:email:0123abcd',
          sentAt: '2026-05-01T10:00:00.000Z',
          receiveCount: 1,
          sourceQueue: arn('eu-west-1', QUEUE_NAME),
          reason: {
            errorCode: 'USER_NOT_FOUND',
            upstreamCode: 'ResourceNotFound.UserNotExist',
            upstreamRequestId: 'req-9',
            attempts: '5',
            firstErrorAt: '2026-05-01T09:00:00.000Z',
            lastErrorAt: '2026-05-01T09:59:00.000Z',
            connectionId: 'clerk-main',
            eventId: 'evt_1',
            reason: 'permanent',
          },
          body: BODY,
        },
      ]);
    });

    it('stops at --max and says so', async () => {
      resolvesStage('ap-southeast-1');
      sqs.on(ReceiveMessageCommand).resolves({ Messages: [deadLetter] });
      const result = await run(['list', '--stage', 'prod', '--max', '1']);
      expect(result.code).toBe(0);
      expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages).toBe(1);
      expect(result.err).toContain('stopped at --max 1');
    });

    it('defaults to the region serverless.yml deploys to', async () => {
      resolvesStage('ap-southeast-1');
      sqs.on(ReceiveMessageCommand).resolves({});
      const result = await run(['list', '--stage', 'prod']);
      expect(result.regions).toEqual(['ap-southeast-1']);
      expect(result.out).toContain('0 dead letter(s)');
    });

    it('explains a missing queue and exits 1', async () => {
      sqs
        .on(GetQueueUrlCommand)
        .rejects(
          new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} }),
        );
      const result = await run(['list', '--stage', 'nope']);
      expect(result.code).toBe(1);
      expect(result.err).toContain(
        'QueueDoesNotExist: the queue does not exist (check --stage and --region)',
      );
    });
  });

  describe('redrive', () => {
    it('moves the stage’s dead letters back to its queue and prints the task handle', async () => {
      resolvesStage('ap-southeast-1');
      sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-abc' });
      const result = await run(['redrive', '--stage', 'prod', '--rate', '50']);
      expect(result.code).toBe(0);
      expect(
        sqs.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input),
      ).toEqual([
        {
          SourceArn: arn('ap-southeast-1', DLQ_NAME),
          DestinationArn: arn('ap-southeast-1', QUEUE_NAME),
          MaxNumberOfMessagesPerSecond: 50,
        },
      ]);
      expect(result.out).toContain('task handle: task-abc');
    });

    it('with only --dlq-url lets SQS send them back where they came from', async () => {
      sqs
        .on(GetQueueAttributesCommand)
        .resolves({ Attributes: { QueueArn: arn('us-east-1', DLQ_NAME) } });
      sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-def' });
      const result = await run(['redrive', '--dlq-url', url('us-east-1', DLQ_NAME), '--json']);
      expect(result.code).toBe(0);
      expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
        SourceArn: arn('us-east-1', DLQ_NAME),
      });
      expect(JSON.parse(result.out)).toMatchObject({ taskHandle: 'task-def' });
    });

    it('reports SQS refusing a second task (one per queue) with exit code 1', async () => {
      resolvesStage('ap-southeast-1');
      const refused = new Error('There is already a task running.');
      refused.name = 'UnsupportedOperation';
      sqs.on(StartMessageMoveTaskCommand).rejects(refused);
      const result = await run(['redrive', '--stage', 'prod']);
      expect(result.code).toBe(1);
      expect(result.err).toContain('UnsupportedOperation: There is already a task running.');
    });
  });

  it('stats prints both queues’ counts', async () => {
    resolvesStage('ap-southeast-1');
    const result = await run(['stats', '--stage', 'prod', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      queue: { url: url('ap-southeast-1', QUEUE_NAME), visible: 4, inFlight: 1 },
      deadLetterQueue: { url: url('ap-southeast-1', DLQ_NAME), visible: 2, inFlight: 0 },
    });
  });

  describe('command line', () => {
    it.each([
      [[], 'Give exactly one command'],
      [['purge', '--stage', 'prod'], "Unknown command 'purge'"],
      [['list'], 'Name the dead-letter queue'],
      [['stats', '--dlq-url', url('eu-west-1', DLQ_NAME)], 'Name the queues'],
      [['list', '--stage', 'prod', '--local'], '--local talks to `npm start`'],
      [['list', '--stage', 'prod', '--dlq-url', 'x'], 'either --stage or the queue URLs'],
      [['list', '--stage', 'prod; rm -rf'], '--stage is a serverless stage name'],
      [['redrive', '--stage', 'prod', '--rate', '501'], '--rate must be an integer from 1 to 500'],
      [['list', '--stage', 'prod', '--verbose'], "Unknown option '--verbose'"],
    ])('exits 2 with the usage for %j', async (argv, message) => {
      const result = await run(argv);
      expect(result.code).toBe(2);
      expect(result.err).toContain(message);
      expect(result.err).toContain('Usage: npm run dlq');
      expect(sqs.calls()).toHaveLength(0);
    });

    it('prints the usage for --help', async () => {
      const result = await run(['--help']);
      expect(result.code).toBe(0);
      expect(result.out).toContain('Usage: npm run dlq -- <command>');
    });
  });
});
