/**
 * Every failure the adapter reports carries a stable SCREAMING_SNAKE `code`; callers, tests and
 * HTTP responses branch on it, never on message text (Tencent warns its messages change).
 */
export type ErrorCode =
  // Inbound request problems (4xx, never reach CIAM)
  | 'CONNECTION_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'SIGNATURE_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_INVALID'
  | 'MAPPING_INVALID'
  | 'REQUEST_INVALID'
  // User resolution
  | 'USER_NOT_FOUND'
  | 'USER_AMBIGUOUS'
  // Upstream (CIAM) outcomes
  | 'UPSTREAM_CONFLICT'
  | 'UPSTREAM_REJECTED'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_AUTH_FAILED'
  // Source-side lookups (e.g. Okta Users API)
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_REJECTED'
  // Deployment problems
  | 'CONFIG_INVALID'
  | 'SECRET_UNAVAILABLE'
  | 'INTERNAL';

export interface AdapterErrorOptions extends ErrorOptions {
  statusCode?: number;
  /** Whether `message` and `details` may be shown to the caller. Defaults to statusCode < 500. */
  expose?: boolean;
  /** Safe, structured detail for the caller (e.g. ajv paths). Never secrets or personal data. */
  details?: unknown;
  headers?: Record<string, string>;
}

/** Shaped like @middy/util's HttpError (statusCode, expose) so middy error handling understands it. */
export class AdapterError extends Error {
  override readonly name: string = 'AdapterError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly expose: boolean;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AdapterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.statusCode = options.statusCode ?? 500;
    this.expose = options.expose ?? this.statusCode < 500;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export class SignatureError extends AdapterError {
  override readonly name = 'SignatureError';
  constructor(message: string, options: AdapterErrorOptions = {}) {
    super('SIGNATURE_INVALID', message, { statusCode: 401, ...options });
  }
}

export class ValidationError extends AdapterError {
  override readonly name = 'ValidationError';
}

export class ConfigError extends AdapterError {
  override readonly name = 'ConfigError';
  constructor(message: string, options: AdapterErrorOptions = {}) {
    super('CONFIG_INVALID', message, { statusCode: 500, ...options });
  }
}

export const isAdapterError = (error: unknown): error is AdapterError =>
  error instanceof AdapterError;
