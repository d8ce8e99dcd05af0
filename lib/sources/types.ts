import type { UserChange } from '../change.ts';
import type { Connection, SourceType } from '../config/types.ts';
import type { SecretSource } from '../secrets/types.ts';

/** An inbound HTTP request as every source sees it, already decoded from the Lambda event. */
export interface InboundRequest {
  method: string;
  path: string;
  /** Lower-cased names; duplicate headers joined with `,` as API Gateway v2 does. */
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /** The exact bytes received (base64 bodies decoded). Signatures are checked over these. */
  rawBody: Buffer;
}

export interface SourceContext {
  secrets: SecretSource;
  fetch: typeof fetch;
  /** Epoch milliseconds. */
  now: () => number;
  signal?: AbortSignal;
}

/** A reply a source produces itself (Okta's verification challenge). */
export interface SourceReply {
  statusCode: number;
  body: unknown;
}

export interface IgnoredEvent {
  eventId: string;
  eventType: string;
  reason: string;
}

export interface SourceOutcome {
  changes: UserChange[];
  ignored: IgnoredEvent[];
}

/** A source bound to one connection; per-connection work (schemas, expressions) done once. */
export interface PreparedSource {
  /** Handles `GET` (Okta's one-time challenge). Sources without a handshake leave it out. */
  handshake?(request: InboundRequest, context: SourceContext): Promise<SourceReply>;
  /** Throws `SignatureError` (401 SIGNATURE_INVALID) unless the raw request is authentic. */
  authenticate(request: InboundRequest, context: SourceContext): Promise<void>;
  /** Throws `ValidationError` (400 PAYLOAD_INVALID, details = ajv paths) unless valid. */
  validate(payload: unknown): void;
  toChanges(
    payload: unknown,
    request: InboundRequest,
    context: SourceContext,
  ): Promise<SourceOutcome>;
}

export interface SourceDefinition {
  type: SourceType;
  /** JSON Schema for `connection.options`; the config schema embeds it. */
  optionsSchema: Record<string, unknown>;
  /** Called once per connection at cold start; throws `ConfigError` for bad options. */
  prepare(connection: Connection): PreparedSource;
}
