import type { Context } from 'aws-lambda';

export interface FakeContextOptions {
  /** What `getRemainingTimeInMillis` answers; middy's early timeout is armed from it. */
  remainingMs?: number;
  awsRequestId?: string;
}

/**
 * A Lambda `Context` as the runtime hands it over (middy's `defaultContext`, powertools'
 * `testing-utils/context`). The remaining time is fixed rather than counting down, so the early
 * timeout only fires when a test asks for a short deadline.
 */
export const fakeContext = (options: FakeContextOptions = {}): Context => {
  const remainingMs = options.remainingMs ?? 30_000;
  const functionName = 'ciam-webhook-adapter-dev-webhook';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: options.awsRequestId ?? 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
};
