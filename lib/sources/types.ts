import type { IgnoredReason, UserChange } from '../change.ts';
import type { Connection, WebhookSourceType } from '../config/types.ts';
import type { HttpFetch } from '../fetch.ts';
import type { InboundRequest } from '../http/request.ts';
import type { SecretSource } from '../secrets/types.ts';

export type { InboundRequest };

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

export interface SourceDefinition<P = unknown, V = never> {
  type: WebhookSourceType;
  /** JSON Schema for `connection.options`; the config schema embeds it. */
  optionsSchema: Record<string, unknown>;
  /**
   * Called once per connection at cold start; throws `ConfigError` for bad options. `validators`
   * replaces the source's payload validators, injected as fetch and the clock are (a test counts
   * their runs through it); the functions leave it out and get the ones generated at build time.
   */
  prepare(connection: Connection, validators?: V): PreparedSource<P>;
}

/**
 * For the registry, where sources with different parsed types sit side by side. Sound as long as
 * `toChanges` only ever receives what the same source's `parse` returned, which is how
 * processWebhook calls them (TypeScript checks method parameters bivariantly, which is what
 * lets `PreparedSource<P>` stand in for `PreparedSource<unknown>` here). The validators' type is
 * erased to `never`: through the registry, a source only ever gets its own.
 */
export const eraseParsed = <P, V>(definition: SourceDefinition<P, V>): SourceDefinition =>
  definition;
