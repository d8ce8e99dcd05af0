import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../lib/errors.ts';
import {
  classifyUpstreamCode,
  isUpstreamError,
  type RetryClass,
  UpstreamError,
} from '../../lib/tencent/errors.ts';

type Row = readonly [code: string, retryClass: RetryClass, errorCode: string, statusCode: number];

const RATE = ['retryable', 'UPSTREAM_RATE_LIMITED', 429] as const;
const UNAVAILABLE = ['retryable', 'UPSTREAM_UNAVAILABLE', 503] as const;
const REFRESH = ['refresh-credentials', 'UPSTREAM_AUTH_FAILED', 502] as const;
const AUTH = ['permanent', 'UPSTREAM_AUTH_FAILED', 502] as const;
const SETUP = ['permanent', 'UPSTREAM_SETUP_INVALID', 502] as const;
const CONFLICT = ['permanent', 'UPSTREAM_CONFLICT', 409] as const;
const NOT_FOUND = ['permanent', 'USER_NOT_FOUND', 404] as const;
const REJECTED = ['permanent', 'UPSTREAM_REJECTED', 422] as const;

/** UpdateUser-api.txt §6, in the order listed there. */
const UPDATE_USER_CODES: Row[] = [
  ['AuthFailure', ...AUTH],
  ['DryRunOperation', ...REJECTED],
  ['FailedOperation', ...REJECTED],
  ['FailedOperation.AttributeFormatError', ...REJECTED],
  ['FailedOperation.EmailAlreadyExists', ...CONFLICT],
  ['FailedOperation.IndexedAttributeTooLong', ...REJECTED],
  ['FailedOperation.InvalidTenant', ...SETUP],
  ['FailedOperation.InvalidUserStore', ...SETUP],
  ['FailedOperation.PhoneNumberAlreadyExists', ...CONFLICT],
  ['FailedOperation.QuotaLimitExceeded', ...REJECTED],
  ['FailedOperation.UserGroupNotFound', ...REJECTED],
  ['FailedOperation.UserNameAlreadyExists', ...CONFLICT],
  ['FailedOperation.UserNotFound', ...NOT_FOUND],
  ['InternalError', ...UNAVAILABLE],
  ['InternalError.UnknownError', ...UNAVAILABLE],
  ['InvalidParameter', ...REJECTED],
  ['InvalidParameter.ParameterIllegal', ...REJECTED],
  ['InvalidParameterValue', ...REJECTED],
  ['LimitExceeded', ...REJECTED],
  ['MissingParameter', ...REJECTED],
  ['OperationDenied', ...REJECTED],
  ['RequestLimitExceeded', ...RATE],
  ['RequestLimitExceeded.FrequentRequest', ...RATE],
  ['RequestLimitExceeded.RepeatRequest', ...RATE],
  ['ResourceInUse', ...REJECTED],
  ['ResourceInsufficient', ...REJECTED],
  ['ResourceNotFound', ...REJECTED],
  ['ResourceUnavailable', ...UNAVAILABLE],
  ['ResourcesSoldOut', ...REJECTED],
  ['UnauthorizedOperation', ...AUTH],
  ['UnauthorizedOperation.TenantNotActivated', ...AUTH],
  ['UnknownParameter', ...REJECTED],
  ['UnsupportedOperation', ...REJECTED],
];

/** tencent-cloud-api.md §3.2, common error codes of every API 3.0 action. */
const COMMON_CODES: Row[] = [
  ['ActionOffline', ...REJECTED],
  ['AuthFailure.InvalidAuthorization', ...AUTH],
  ['AuthFailure.InvalidSecretId', ...AUTH],
  ['AuthFailure.MFAFailure', ...AUTH],
  ['AuthFailure.SecretIdNotFound', ...REFRESH],
  ['AuthFailure.SignatureExpire', ...UNAVAILABLE],
  ['AuthFailure.SignatureFailure', ...REFRESH],
  ['AuthFailure.TokenFailure', ...REFRESH],
  ['AuthFailure.UnauthorizedOperation', ...AUTH],
  ['InvalidAction', ...REJECTED],
  ['InvalidRequest', ...REJECTED],
  ['IpInBlacklist', ...SETUP],
  ['IpNotInWhitelist', ...SETUP],
  ['NoSuchProduct', ...REJECTED],
  ['NoSuchVersion', ...REJECTED],
  ['RequestLimitExceeded.GlobalRegionUinLimitExceeded', ...RATE],
  ['RequestLimitExceeded.IPLimitExceeded', ...RATE],
  ['RequestLimitExceeded.UinLimitExceeded', ...RATE],
  ['RequestSizeLimitExceeded', ...REJECTED],
  ['ResponseSizeLimitExceeded', ...REJECTED],
  ['ServiceUnavailable', ...UNAVAILABLE],
  ['UnsupportedProtocol', ...REJECTED],
  ['UnsupportedRegion', ...REJECTED],
];

/** tencent-cloud-api.md §3.3, CIAM codes seen on other actions. */
const CIAM_CODES: Row[] = [
  ['FailedOperation.UserIsFreeze', ...REJECTED],
  ['FailedOperation.EmailIsNull', ...REJECTED],
  ['FailedOperation.PhoneNumberIsNull', ...REJECTED],
  ['FailedOperation.UserNameIsNull', ...REJECTED],
  ['FailedOperation.PasswordIsNull', ...REJECTED],
  ['FailedOperation.InvalidUserStatusEnum', ...REJECTED],
  ['FailedOperation.UserStatusRequired', ...REJECTED],
  ['FailedOperation.QueryUsersParameterMustInWhitelist', ...REJECTED],
  ['FailedOperation.QueryUsersParameterRepeat', ...REJECTED],
  ['FailedOperation.QueryUsersSortParameterMustInWhitelist', ...REJECTED],
  ['FailedOperation.DataFlowTooManyRequests', ...REJECTED],
  ['FailedOperation.AccountAlreadyBeLinked', ...REJECTED],
  ['FailedOperation.PrimaryUserNotFound', ...REJECTED],
  ['FailedOperation.SecondaryUserNotFound', ...REJECTED],
  ['InternalError.JudgeUserExistException', ...UNAVAILABLE],
];

/** What the client reports for transport failures. */
const TRANSPORT_CODES: Row[] = [
  ['HTTP_502', ...UNAVAILABLE],
  ['HTTP_429', ...UNAVAILABLE],
  ['HTTP_404', ...UNAVAILABLE],
  ['NETWORK', ...UNAVAILABLE],
  ['TIMEOUT', ...UNAVAILABLE],
  ['BAD_RESPONSE', ...UNAVAILABLE],
  ['ABORTED', ...UNAVAILABLE],
];

/** Look-alikes that must not be caught by a family prefix. */
const LOOKALIKES: Row[] = [
  ['RequestLimitExceededSoon', ...REJECTED],
  ['InternalErrorish', ...REJECTED],
  ['AuthFailureX', ...REJECTED],
  ['HTTP_5', ...REJECTED],
  ['', ...REJECTED],
];

const ALL = [
  ...UPDATE_USER_CODES,
  ...COMMON_CODES,
  ...CIAM_CODES,
  ...TRANSPORT_CODES,
  ...LOOKALIKES,
];

describe('tencent/errors', () => {
  it.each(ALL)('classifies %s as %s', (code, retryClass) => {
    expect(classifyUpstreamCode(code)).toBe(retryClass);
  });

  it.each(ALL)('maps %s (%s) to %s %i', (code, retryClass, errorCode, statusCode) => {
    const error = new UpstreamError({ upstreamCode: code, action: 'UpdateUser', requestId: 'r-1' });
    expect(error).toBeInstanceOf(AdapterError);
    expect(isUpstreamError(error)).toBe(true);
    expect(error).toMatchObject({
      name: 'UpstreamError',
      code: errorCode,
      statusCode,
      retryClass,
      upstreamCode: code,
      requestId: 'r-1',
      action: 'UpdateUser',
    });
  });

  it('tells rate-limited callers to come back in a second', () => {
    const error = new UpstreamError({
      upstreamCode: 'RequestLimitExceeded.UinLimitExceeded',
      action: 'UpdateUser',
    });
    expect(error.headers).toEqual({ 'retry-after': '1' });
  });

  it('sets Retry-After on every other retryable outcome', () => {
    for (const [code] of ALL.filter(([, , errorCode]) => errorCode === 'UPSTREAM_UNAVAILABLE')) {
      const error = new UpstreamError({ upstreamCode: code, action: 'UpdateUser' });
      expect(Number(error.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('exposes every upstream outcome by code, outages included, so senders can act on it', () => {
    const auth = new UpstreamError({
      upstreamCode: 'AuthFailure.SignatureFailure',
      action: 'UpdateUser',
    });
    const outage = new UpstreamError({ upstreamCode: 'InternalError', action: 'UpdateUser' });
    const conflict = new UpstreamError({
      upstreamCode: 'FailedOperation.EmailAlreadyExists',
      action: 'UpdateUser',
    });
    expect(auth.expose).toBe(true);
    expect(outage.expose).toBe(true);
    expect(outage.message).not.toMatch(/internal error occurred/i);
    expect(conflict.expose).toBe(true);
    expect(conflict.headers).toEqual({});
  });

  it('keeps transport details and the cause', () => {
    const cause = new TypeError('fetch failed');
    const error = new UpstreamError({
      upstreamCode: 'HTTP_502',
      action: 'DescribeUserById',
      httpStatus: 502,
      cause,
    });
    expect(error).toMatchObject({
      httpStatus: 502,
      requestId: undefined,
      action: 'DescribeUserById',
    });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ upstreamCode: 'HTTP_502' });
  });

  it('puts only the upstream code and request id in details', () => {
    const error = new UpstreamError({
      upstreamCode: 'FailedOperation.UserNotFound',
      action: 'UpdateUser',
      requestId: 'req-9',
    });
    expect(error.details).toEqual({
      upstreamCode: 'FailedOperation.UserNotFound',
      requestId: 'req-9',
    });
  });
});
