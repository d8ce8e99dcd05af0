import type { UserChange } from '../change.ts';
import type { Connection, WebhookSourceType } from '../config/types.ts';
import type { HttpFetch } from '../http/fetch.ts';
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
  fetch: HttpFetch;
  /** Epoch milliseconds. */
  now: () => number;
  signal?: AbortSignal;
}

/** A reply a source produces itself (Okta's verification challenge). */
export interface SourceReply {
  statusCode: number;
  body: unknown;
}

/**
 * Why an event was acknowledged without a change. A closed set, the same for every source, so
 * replies, logs and metrics can be grouped by it:
 * - `event_type_not_handled`: the connection does not map this event type;
 * - `test_event`: the sender marked it as a test (Auth0 `a0purpose: "test"`);
 * - `no_user_in_event`: a mapped type that names no user (an Okta event without a User target);
 * - `user_not_found_at_source`: the source no longer has the user it names (Okta Users API 404);
 * - `stale`: older than a change already applied for the same user (the stale-event guard);
 * - `duplicate`: that very change, or one of the same instant, was applied already.
 */
export const IGNORED_REASONS = [
  'event_type_not_handled',
  'test_event',
  'no_user_in_event',
  'user_not_found_at_source',
  // Set by the stale-event guard when applying (lib/ciam/apply.ts), not by sources.
  'stale',
  'duplicate',
] as const;

export type IgnoredReason = (typeof IGNORED_REASONS)[number];

export interface IgnoredEvent {
  eventId: string;
  eventType: string;
  reason: IgnoredReason;
}

export interface SourceOutcome {
  changes: UserChange[];
  ignored: IgnoredEvent[];
}

/**
 * A source bound to one connection; per-connection work (schemas, expressions) done once.
 *
 * Per request: `authenticate` over the raw bytes, then `parse` (each schema runs once, here), then
 * `toChanges` with what `parse` returned. `P` is private to the source; the registry erases it.
 */
export interface PreparedSource<P = unknown> {
  /** Handles `GET` (Okta's one-time challenge). Sources without a handshake leave it out. */
  handshake?(request: InboundRequest, context: SourceContext): Promise<SourceReply>;
  /** Throws `SignatureError` (401 SIGNATURE_INVALID) unless the raw request is authentic. */
  authenticate(request: InboundRequest, context: SourceContext): Promise<void>;
  /**
   * Throws `ValidationError` PAYLOAD_INVALID (400, details = JSON paths) unless valid; returns the
   * typed payload. Sender-chosen ids (payload or headers) longer than MAX_SENDER_ID_LENGTH are
   * refused here, before anything echoes or logs them.
   */
  parse(payload: unknown, request: InboundRequest): P;
  /** Takes what `parse` returned for the same request; never validates again. */
  toChanges(parsed: P, request: InboundRequest, context: SourceContext): Promise<SourceOutcome>;
}

export interface SourceDefinition<P = unknown> {
  type: WebhookSourceType;
  /** JSON Schema for `connection.options`; the config schema embeds it. */
  optionsSchema: Record<string, unknown>;
  /** Called once per connection at cold start; throws `ConfigError` for bad options. */
  prepare(connection: Connection): PreparedSource<P>;
}

/**
 * For the registry, where sources with different parsed types sit side by side. Sound as long as
 * `toChanges` only ever receives what the same source's `parse` returned, which is how
 * processWebhook calls them (TypeScript checks method parameters bivariantly, which is what
 * lets `PreparedSource<P>` stand in for `PreparedSource<unknown>` here).
 */
export const eraseParsed = <P>(definition: SourceDefinition<P>): SourceDefinition => definition;
