import type { Logger } from '@aws-lambda-powertools/logger';
import type { AdapterError } from '../errors.ts';
import { isUpstreamError } from '../tencent/errors.ts';

/** Safe to log: codes and ids only, never messages from upstream or values from the event. */
export interface FailureFields {
  code: string;
  statusCode: number;
  retryable: boolean;
  upstreamCode?: string;
  upstreamRequestId?: string;
}

export const failureFields = (error: AdapterError): FailureFields => ({
  code: error.code,
  statusCode: error.statusCode,
  retryable: error.retryable,
  ...(isUpstreamError(error) ? { upstreamCode: error.upstreamCode } : {}),
  ...(isUpstreamError(error) && error.requestId !== undefined
    ? { upstreamRequestId: error.requestId }
    : {}),
});

/**
 * How every handler reports a failed event: what the adapter must fix (5xx) is an error with its
 * cause for the stack; what the sender sent wrong (4xx) is a warning without one.
 */
export const logFailure = (
  logger: Pick<Logger, 'error' | 'warn'>,
  message: string,
  error: AdapterError,
  extra: Record<string, unknown> = {},
): void => {
  const fields = { ...extra, ...failureFields(error) };
  if (error.statusCode >= 500) {
    logger.error(message, { ...fields, error: error.cause ?? error });
  } else {
    logger.warn(message, fields);
  }
};
