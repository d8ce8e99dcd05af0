import { AdapterError, type ErrorCode } from '../errors.ts';

/**
 * What the client does with a failed call: back off and retry, refetch credentials and retry once,
 * or give up. Tencent documents no retry semantics; this follows its error code list and what each
 * code says about the request.
 */
export type RetryClass = 'retryable' | 'refresh-credentials' | 'permanent';

interface Outcome {
  readonly retryClass: RetryClass;
  /** Status and retryability come from the one table in lib/errors.ts. */
  readonly code: ErrorCode;
}

const RATE_LIMITED: Outcome = { retryClass: 'retryable', code: 'UPSTREAM_RATE_LIMITED' };
const UNAVAILABLE: Outcome = { retryClass: 'retryable', code: 'UPSTREAM_UNAVAILABLE' };
const REFRESH: Outcome = { retryClass: 'refresh-credentials', code: 'UPSTREAM_AUTH_FAILED' };
// Set-up errors are not retried inside one call (they will not heal in milliseconds), but the
// table marks their codes retryable: the sender or the queue tries again once an operator fixes it.
const AUTH_FAILED: Outcome = { retryClass: 'permanent', code: 'UPSTREAM_AUTH_FAILED' };
const SETUP_INVALID: Outcome = { retryClass: 'permanent', code: 'UPSTREAM_SETUP_INVALID' };
const CONFLICT: Outcome = { retryClass: 'permanent', code: 'UPSTREAM_CONFLICT' };
const NOT_FOUND: Outcome = { retryClass: 'permanent', code: 'USER_NOT_FOUND' };
const REJECTED: Outcome = { retryClass: 'permanent', code: 'UPSTREAM_REJECTED' };

const EXACT: Readonly<Record<string, Outcome>> = {
  ServiceUnavailable: UNAVAILABLE,
  ResourceUnavailable: UNAVAILABLE,
  // The client signs each attempt with a fresh timestamp, so a retry can succeed.
  'AuthFailure.SignatureExpire': UNAVAILABLE,
  // A rotated secret shows up as one of these until the cached copy is refetched.
  'AuthFailure.SecretIdNotFound': REFRESH,
  'AuthFailure.SignatureFailure': REFRESH,
  'AuthFailure.TokenFailure': REFRESH,
  'FailedOperation.UserNameAlreadyExists': CONFLICT,
  'FailedOperation.EmailAlreadyExists': CONFLICT,
  'FailedOperation.PhoneNumberAlreadyExists': CONFLICT,
  'FailedOperation.UserNotFound': NOT_FOUND,
  // A write naming a group the user store does not have fails the same way every time, so it is
  // not retried. Named here rather than left to the fallback so that stays true whatever the
  // fallback becomes; the code itself stays in `upstreamCode` for group sync to act on.
  'FailedOperation.UserGroupNotFound': REJECTED,
  // The adapter's own set-up is wrong, not the event: answered 5xx so nothing is dropped.
  'FailedOperation.InvalidTenant': SETUP_INVALID,
  'FailedOperation.InvalidUserStore': SETUP_INVALID,
  IpInBlacklist: SETUP_INVALID,
  IpNotInWhitelist: SETUP_INVALID,
  // Transport failures the client reports in place of a Tencent code (non-200 is `HTTP_<status>`).
  NETWORK: UNAVAILABLE,
  TIMEOUT: UNAVAILABLE,
  BAD_RESPONSE: UNAVAILABLE,
  // The caller gave up (e.g. the Lambda deadline); the work itself may be retried later.
  ABORTED: UNAVAILABLE,
};

/** Families match the bare code and every `.`-separated sub-code; first match wins. */
const FAMILIES: ReadonlyArray<readonly [string, Outcome]> = [
  ['RequestLimitExceeded', RATE_LIMITED],
  ['InternalError', UNAVAILABLE],
  ['AuthFailure', AUTH_FAILED],
  ['UnauthorizedOperation', AUTH_FAILED],
];

const outcomeOf = (code: string): Outcome => {
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  // Any non-200 from a gateway or proxy in front of Tencent is worth another try.
  if (/^HTTP_\d{3}$/.test(code)) return UNAVAILABLE;
  for (const [family, outcome] of FAMILIES) {
    if (code === family || code.startsWith(`${family}.`)) return outcome;
  }
  return REJECTED;
};

export const classifyUpstreamCode = (code: string): RetryClass => outcomeOf(code).retryClass;

export interface UpstreamErrorInit {
  /** Tencent's `Response.Error.Code` verbatim, `HTTP_<status>`, NETWORK, TIMEOUT, BAD_RESPONSE or ABORTED. */
  upstreamCode: string;
  action: string;
  requestId?: string | undefined;
  httpStatus?: number | undefined;
  cause?: unknown;
}

/**
 * A failed Tencent call. The message names only the action and the code: Tencent's own `Message`
 * may echo request values (personal data) and changes without notice, so it is not kept.
 */
export class UpstreamError extends AdapterError {
  override readonly name = 'UpstreamError';
  readonly upstreamCode: string;
  readonly requestId: string | undefined;
  readonly retryClass: RetryClass;
  readonly httpStatus: number | undefined;
  readonly action: string;

  constructor(init: UpstreamErrorInit) {
    const outcome = outcomeOf(init.upstreamCode);
    super(outcome.code, `Tencent ${init.action} failed with ${init.upstreamCode}`, {
      // The message names only the action and Tencent's code (never its Message text, which can
      // echo request data), so even 5xx answers may show it: senders and operators need the code.
      expose: true,
      details:
        init.requestId === undefined
          ? { upstreamCode: init.upstreamCode }
          : { upstreamCode: init.upstreamCode, requestId: init.requestId },
      ...(init.cause === undefined ? {} : { cause: init.cause }),
    });
    this.upstreamCode = init.upstreamCode;
    this.requestId = init.requestId;
    this.retryClass = outcome.retryClass;
    this.httpStatus = init.httpStatus;
    this.action = init.action;
  }
}

export const isUpstreamError = (error: unknown): error is UpstreamError =>
  error instanceof UpstreamError;
