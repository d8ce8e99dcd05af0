/**
 * Every failure the adapter reports carries a stable SCREAMING_SNAKE `code`; callers, tests and
 * HTTP responses branch on it, never on message text (Tencent warns its messages change).
 *
 * `ERRORS` is the one place that says, per code, which HTTP status answers it and whether a later
 * attempt can succeed. The HTTP answer, the sender's retry and the queue consumer's
 * ack / retry / dead-letter decision all read it; no call site picks a status by hand.
 */
export interface ErrorSpec {
  readonly statusCode: number;
  /**
   * Whether the same change, tried again later, can succeed. A 4xx tells the sender to drop the
   * event, so anything the adapter's operator can fix (credentials, set-up, a bug) is retryable and
   * answered 5xx: the sender retries, and queued mode retries then dead-letters with the reason.
   */
  readonly retryable: boolean;
  /** Sent as `Retry-After` on 429 / 503 answers. */
  readonly retryAfterSeconds?: number;
}

export const ERRORS = {
  // Inbound request problems: never reach CIAM, and the same bytes can never succeed.
  CONNECTION_NOT_FOUND: { statusCode: 404, retryable: false },
  /**
   * The connection accepts requests only from its `allowedSourceIps`, and this one came from
   * elsewhere. Checked before any secret is read.
   */
  SOURCE_IP_NOT_ALLOWED: { statusCode: 403, retryable: false },
  METHOD_NOT_ALLOWED: { statusCode: 405, retryable: false },
  SIGNATURE_INVALID: { statusCode: 401, retryable: false },
  PAYLOAD_TOO_LARGE: { statusCode: 413, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, retryable: false },
  PAYLOAD_INVALID: { statusCode: 400, retryable: false },
  MAPPING_INVALID: { statusCode: 422, retryable: false },
  REQUEST_INVALID: { statusCode: 422, retryable: false },
  /**
   * A membership event for a source group the connection maps to no CIAM group, on a connection
   * set to refuse those (`groups.unmapped: "refuse"`).
   */
  GROUP_NOT_MAPPED: { statusCode: 422, retryable: false },
  /** A queued message that is not a valid envelope: it can only be dead-lettered. */
  MESSAGE_INVALID: { statusCode: 400, retryable: false },
  // SCIM requests (lib/scim): RFC 7644 §3.12 errors; lib/scim/errors.ts adds their scimType.
  SCIM_INVALID_FILTER: { statusCode: 400, retryable: false },
  SCIM_INVALID_PATH: { statusCode: 400, retryable: false },
  SCIM_INVALID_VALUE: { statusCode: 400, retryable: false },
  SCIM_INVALID_SYNTAX: { statusCode: 400, retryable: false },
  /** A PATCH path whose value filter matches nothing and names no element to create. */
  SCIM_NO_TARGET: { statusCode: 400, retryable: false },
  /** A PATCH or PUT that would change what cannot change (the id). */
  SCIM_MUTABILITY: { statusCode: 400, retryable: false },
  /** No such SCIM endpoint, or no such Group. */
  SCIM_ENDPOINT_NOT_FOUND: { statusCode: 404, retryable: false },
  /** POST found no user to link, and its userName or email belongs to another CIAM user. */
  SCIM_UNIQUENESS: { statusCode: 409, retryable: false },
  /** POST /Users found no user to link and the connection does not set `allowCreate`. */
  SCIM_CREATE_NOT_ALLOWED: { statusCode: 403, retryable: false },
  // User resolution
  USER_NOT_FOUND: { statusCode: 404, retryable: false },
  USER_AMBIGUOUS: { statusCode: 409, retryable: false },
  // Upstream (CIAM) outcomes
  UPSTREAM_CONFLICT: { statusCode: 409, retryable: false },
  UPSTREAM_REJECTED: { statusCode: 422, retryable: false },
  UPSTREAM_RATE_LIMITED: { statusCode: 429, retryable: true, retryAfterSeconds: 1 },
  UPSTREAM_UNAVAILABLE: { statusCode: 503, retryable: true, retryAfterSeconds: 5 },
  /**
   * A write failed after an earlier attempt of it timed out or lost its connection: CIAM may have
   * applied it, and may still. Retried later, when the attempt must have landed; the stale-event
   * guard then finds it applied or applies it.
   */
  UPSTREAM_OUTCOME_UNKNOWN: { statusCode: 503, retryable: true, retryAfterSeconds: 60 },
  /**
   * The user's field clocks would not fit their custom attribute (every field set by a different
   * change, and many custom attributes): the mapping writes more fields than the clocks can hold.
   */
  CLOCKS_TOO_LONG: { statusCode: 422, retryable: false },
  /** Our CIAM credentials are refused even after one refetch: an operator must fix them. */
  UPSTREAM_AUTH_FAILED: { statusCode: 502, retryable: true },
  /** CIAM says the tenant, user store or caller IP is not usable: the deployment is wrong. */
  UPSTREAM_SETUP_INVALID: { statusCode: 502, retryable: true },
  // Source-side lookups (e.g. Okta Users API)
  SOURCE_UNAVAILABLE: { statusCode: 503, retryable: true, retryAfterSeconds: 5 },
  /** The source refused our call-back (e.g. a revoked Okta API token): set-up, not the event. */
  SOURCE_REJECTED: { statusCode: 502, retryable: true },
  // Listing a source's users through its own API (lib/source-apis, reconciliation)
  /** The source's user API failed (5xx, no answer, a body of the wrong shape) after retries. */
  SOURCE_API_FAILED: { statusCode: 502, retryable: true },
  /** The source's user API refused the credential (401/403): an operator must fix it. */
  SOURCE_API_UNAUTHORIZED: { statusCode: 502, retryable: true },
  /** The source kept answering 429 beyond the retries allowed, or asked for too long a wait. */
  SOURCE_API_RATE_LIMITED: { statusCode: 429, retryable: true, retryAfterSeconds: 60 },
  /** A saved cursor the source no longer accepts (expired, or its export job deleted). */
  SOURCE_CURSOR_EXPIRED: { statusCode: 410, retryable: false },
  // Our own limits
  /** The function ran out of time before the change was applied; nothing was acknowledged. */
  DEADLINE_EXCEEDED: { statusCode: 503, retryable: true, retryAfterSeconds: 5 },
  /** The queue did not store the change, so it was not acknowledged. */
  QUEUE_UNAVAILABLE: { statusCode: 503, retryable: true, retryAfterSeconds: 5 },
  /**
   * `npm run reconcile -- --apply <file>`: the file is not a plan, is for another connection, or is
   * incomplete (its source listing stopped mid-way; resume it first).
   */
  RECONCILE_PLAN_INVALID: { statusCode: 422, retryable: false },
  // Deployment problems: fixed by an operator, after which the same change succeeds.
  CONFIG_INVALID: { statusCode: 500, retryable: true },
  SECRET_UNAVAILABLE: { statusCode: 503, retryable: true, retryAfterSeconds: 5 },
  /** A bug. Retried (it may be transient) and, in queued mode, dead-lettered with its cause. */
  INTERNAL: { statusCode: 500, retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(ERRORS, value);

export interface AdapterErrorOptions extends ErrorOptions {
  /** Whether `message` and `details` may be shown to the caller. Defaults to statusCode < 500. */
  expose?: boolean;
  /** Safe, structured detail for the caller (e.g. ajv paths). Never secrets or personal data. */
  details?: unknown;
  /** Extra response headers (e.g. `allow`); `retry-after` comes from the table unless given. */
  headers?: Record<string, string>;
}

/** Shaped like @middy/util's HttpError (statusCode, expose) so middy error handling understands it. */
export class AdapterError extends Error {
  override readonly name: string = 'AdapterError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly expose: boolean;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AdapterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERRORS[code];
    this.code = code;
    this.statusCode = spec.statusCode;
    this.retryable = spec.retryable;
    this.expose = options.expose ?? this.statusCode < 500;
    this.details = options.details;
    this.headers = {
      ...(spec.retryAfterSeconds === undefined
        ? {}
        : { 'retry-after': String(spec.retryAfterSeconds) }),
      ...options.headers,
    };
  }
}

export class SignatureError extends AdapterError {
  override readonly name = 'SignatureError';
  constructor(message: string, options: AdapterErrorOptions = {}) {
    super('SIGNATURE_INVALID', message, options);
  }
}

export class ValidationError extends AdapterError {
  override readonly name = 'ValidationError';
}

export class ConfigError extends AdapterError {
  override readonly name = 'ConfigError';
  constructor(message: string, options: AdapterErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

export type SourceApiErrorCode =
  | 'SOURCE_API_FAILED'
  | 'SOURCE_API_UNAUTHORIZED'
  | 'SOURCE_API_RATE_LIMITED'
  | 'SOURCE_CURSOR_EXPIRED';

export interface SourceApiErrorOptions extends AdapterErrorOptions {
  /** Which user API (clerk, workos, auth0, okta). */
  api: string;
  /**
   * Where listing stands: the cursor of the page that failed, i.e. the last one that worked
   * (undefined = the first page). Passing it to `listPage` again resumes there.
   */
  cursor: string | undefined;
  /** The source's HTTP status, when it answered. */
  upstreamStatus?: number;
}

/** A source user API failure, saying how far listing got. */
export class SourceApiError extends AdapterError {
  override readonly name = 'SourceApiError';
  readonly api: string;
  readonly cursor: string | undefined;
  readonly upstreamStatus: number | undefined;
  constructor(code: SourceApiErrorCode, message: string, options: SourceApiErrorOptions) {
    super(code, message, options);
    this.api = options.api;
    this.cursor = options.cursor;
    this.upstreamStatus = options.upstreamStatus;
  }
}

export const isAdapterError = (error: unknown): error is AdapterError =>
  error instanceof AdapterError;
