import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toInboundRequest } from '../../lib/http/request.ts';
import { signAuth0Delivery } from '../../lib/sources/auth0/sender.ts';
import { signHmacDelivery } from '../../lib/sources/hmac/sender.ts';
import { signOktaDelivery } from '../../lib/sources/okta/sender.ts';
import { signStandardWebhooksDelivery } from '../../lib/sources/standard-webhooks/sender.ts';
import type { InboundRequest } from '../../lib/sources/types.ts';
import { signWorkosDelivery } from '../../lib/sources/workos/sender.ts';
import { forConnection } from '../../local/sample-events.ts';
import { readJson } from './files.ts';

export { forConnection };

/**
 * API Gateway v2 events built from the fixtures in `events/`, re-signed at the time a test
 * chooses, so the same fixture serves valid, stale, tampered and re-encoded variants.
 */

export type EventName =
  | 'clerk.user-updated'
  | 'workos.user-updated'
  | 'auth0.user-updated'
  | 'okta.user-updated'
  | 'okta.verification'
  | 'hmac.user-updated'
  | 'clerk.organization-membership-created'
  | 'workos.group-user-added';

/** The demo secrets of config/local-secrets.json, which the fixtures were signed with. */
export const DEMO_SECRETS = {
  clerk: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  workos: 'wos_demo_secret',
  auth0: 'demo-auth0-token',
  okta: 'demo-okta-hook-secret',
  hmac: 'demo-hmac-secret',
} as const;

/** A sample event of `events/`, as committed (signed when it was recorded). */
export const readEvent = (name: EventName): APIGatewayProxyEventV2 =>
  readJson<APIGatewayProxyEventV2>(`events/${name}.json`);

/** A sample as a source sees it: the request the webhook handler decodes from the event. */
export const readRequest = (name: EventName): InboundRequest => toInboundRequest(readEvent(name));

/** The sample's body, parsed, for tests that change a field and re-sign. */
export const fixturePayload = (name: EventName): Record<string, unknown> =>
  JSON.parse(readEvent(name).body ?? 'null') as Record<string, unknown>;

/** A string is sent as is, bytes as a base64 body, anything else as its JSON text. */
export type BodyInput = string | Uint8Array | Record<string, unknown> | unknown[];

const bytesOf = (body: BodyInput): Buffer =>
  typeof body === 'string'
    ? Buffer.from(body, 'utf8')
    : body instanceof Uint8Array
      ? Buffer.from(body)
      : Buffer.from(JSON.stringify(body), 'utf8');

/** Replaces the body (no re-signing): base64 when asked or when the bytes are not text. */
export const withBody = (
  event: APIGatewayProxyEventV2,
  body: BodyInput,
  options: { base64?: boolean } = {},
): APIGatewayProxyEventV2 => {
  const base64 = options.base64 ?? body instanceof Uint8Array;
  const bytes = bytesOf(body);
  return {
    ...event,
    headers: { ...event.headers, 'content-length': String(bytes.length) },
    body: base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: base64,
  };
};

export const withHeaders = (
  event: APIGatewayProxyEventV2,
  headers: Record<string, string>,
): APIGatewayProxyEventV2 => ({ ...event, headers: { ...event.headers, ...headers } });

export const withoutHeaders = (
  event: APIGatewayProxyEventV2,
  ...names: string[]
): APIGatewayProxyEventV2 => {
  const drop = new Set(names.map((name) => name.toLowerCase()));
  return {
    ...event,
    headers: Object.fromEntries(
      Object.entries(event.headers).filter(([name]) => !drop.has(name.toLowerCase())),
    ),
  };
};

export const withMethod = (
  event: APIGatewayProxyEventV2,
  method: string,
): APIGatewayProxyEventV2 => ({
  ...event,
  routeKey: `${method} /webhooks/{connectionId}`,
  requestContext: {
    ...event.requestContext,
    routeKey: `${method} /webhooks/{connectionId}`,
    http: { ...event.requestContext.http, method },
  },
});

/** The same event with its body as base64 (`isBase64Encoded`), as API Gateway sends binary. */
export const base64Encoded = (event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 =>
  event.isBase64Encoded ? event : withBody(event, Buffer.from(event.body ?? '', 'utf8'));

/**
 * Flips the lowest bit of the middle byte and keeps the signature. ASCII stays ASCII, so a
 * fixture body stays valid UTF-8 and the refusal comes from the signature check.
 */
export const tamper = (event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 => {
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return withBody(event, event.isBase64Encoded ? bytes : bytes.toString('utf8'), {
    base64: event.isBase64Encoded ?? false,
  });
};

interface SignedOptions {
  /** Epoch ms; defaults to the real clock. */
  now?: number;
  secret?: string;
  connectionId?: string;
}

const fixtureEvent = (
  name: EventName,
  body: BodyInput | undefined,
  connectionId: string | undefined,
): { event: APIGatewayProxyEventV2; bytes: Buffer } => {
  let event = readEvent(name);
  if (connectionId !== undefined) event = forConnection(event, connectionId);
  if (body !== undefined) event = withBody(event, body);
  return { event, bytes: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8') };
};

/** The demo connection's options in config/local.json, which shape what its sender sends. */
const demoOptions = (connectionId: string): Record<string, unknown> => {
  const config = readJson<{
    connections: Array<{ id: string; options?: Record<string, unknown> }>;
  }>('config/local.json');
  return config.connections.find((connection) => connection.id === connectionId)?.options ?? {};
};

/** Clerk (Standard Webhooks): `svix-id`, `svix-timestamp` (seconds), `svix-signature`. */
export const clerkEvent = (
  body?: BodyInput,
  options: SignedOptions & { id?: string; timestampSeconds?: number } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('clerk.user-updated', body, options.connectionId);
  return withHeaders(
    event,
    signStandardWebhooksDelivery({
      body: bytes,
      secret: options.secret ?? DEMO_SECRETS.clerk,
      nowMs:
        options.timestampSeconds === undefined
          ? (options.now ?? Date.now())
          : options.timestampSeconds * 1000,
      eventId: options.id ?? event.headers['svix-id'] ?? 'msg_test',
    }),
  );
};

/** WorkOS: `WorkOS-Signature: t=<ms>, v1=<hex>`. */
export const workosEvent = (
  body?: BodyInput,
  options: SignedOptions & { timestampMs?: number } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('workos.user-updated', body, options.connectionId);
  return withHeaders(
    event,
    signWorkosDelivery({
      body: bytes,
      secret: options.secret ?? DEMO_SECRETS.workos,
      nowMs: options.timestampMs ?? options.now ?? Date.now(),
    }),
  );
};

/** Auth0 Event Streams: a static bearer token. */
export const auth0Event = (
  body?: BodyInput,
  options: Omit<SignedOptions, 'now'> = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('auth0.user-updated', body, options.connectionId);
  const delivery = { body: bytes, secret: options.secret ?? DEMO_SECRETS.auth0, nowMs: Date.now() };
  return withHeaders(event, signAuth0Delivery(delivery, demoOptions('auth0')));
};

/** Okta Event Hooks: the configured secret verbatim in `Authorization`. */
export const oktaEvent = (
  body?: BodyInput,
  options: Omit<SignedOptions, 'now'> = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('okta.user-updated', body, options.connectionId);
  const delivery = { body: bytes, secret: options.secret ?? DEMO_SECRETS.okta, nowMs: Date.now() };
  return withHeaders(event, signOktaDelivery(delivery));
};

/** Okta's one-time `GET` verification with `X-Okta-Verification-Challenge`. */
export const oktaChallengeEvent = (
  options: Omit<SignedOptions, 'now'> & { challenge?: string } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('okta.verification', undefined, options.connectionId);
  const delivery = { body: bytes, secret: options.secret ?? DEMO_SECRETS.okta, nowMs: Date.now() };
  return withHeaders(event, {
    ...signOktaDelivery(delivery),
    ...(options.challenge === undefined
      ? {}
      : { 'x-okta-verification-challenge': options.challenge }),
  });
};

/** GitHub-style HMAC over the raw bytes, or over `${timestamp}.${body}` with a timestamp header. */
export const hmacEvent = (
  body?: BodyInput,
  options: SignedOptions & {
    /** Sent in the demo connection's event id header (`x-event-id`). */
    eventId?: string;
    /** Sends `timestampHeader: <seconds>` and signs it, for connections that configure one. */
    timestampHeader?: string;
    timestampSeconds?: number;
  } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('hmac.user-updated', body, options.connectionId);
  const { eventId, timestampHeader, timestampSeconds } = options;
  return withHeaders(
    event,
    signHmacDelivery(
      {
        body: bytes,
        secret: options.secret ?? DEMO_SECRETS.hmac,
        nowMs:
          timestampSeconds === undefined ? (options.now ?? Date.now()) : timestampSeconds * 1000,
        ...(eventId === undefined ? {} : { eventId }),
      },
      { ...demoOptions('hmac'), ...(timestampHeader === undefined ? {} : { timestampHeader }) },
    ),
  );
};
