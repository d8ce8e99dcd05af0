import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HmacScheme, signHmac } from '../../lib/sources/hmac/signature.ts';
import { signStandardWebhook } from '../../lib/sources/standard-webhooks/signature.ts';
import { signWorkos } from '../../lib/sources/workos/signature.ts';

/**
 * API Gateway v2 events built from the fixtures in `events/`, re-signed at the time a test
 * chooses, so the same fixture serves valid, stale, tampered and re-encoded variants.
 */

export type FixtureName =
  | 'clerk.user-updated'
  | 'workos.user-updated'
  | 'auth0.user-updated'
  | 'okta.user-updated'
  | 'okta.verification'
  | 'hmac.user-updated';

/** The demo secrets of config/local-secrets.json, which the fixtures were signed with. */
export const DEMO_SECRETS = {
  clerk: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  workos: 'wos_demo_secret',
  auth0: 'demo-auth0-token',
  okta: 'demo-okta-hook-secret',
  hmac: 'demo-hmac-secret',
} as const;

/** The demo HMAC connection signs GitHub style. */
export const HMAC_SCHEME: HmacScheme = { prefix: 'sha256=', encoding: 'hex' };

export const loadFixture = (name: FixtureName): APIGatewayProxyEventV2 =>
  JSON.parse(
    readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'),
  ) as APIGatewayProxyEventV2;

/** The fixture's body, parsed, for tests that change a field and re-sign. */
export const fixturePayload = (name: FixtureName): Record<string, unknown> =>
  JSON.parse(loadFixture(name).body ?? 'null') as Record<string, unknown>;

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

export const forConnection = (
  event: APIGatewayProxyEventV2,
  connectionId: string,
): APIGatewayProxyEventV2 => ({
  ...event,
  rawPath: `/webhooks/${connectionId}`,
  pathParameters: { connectionId },
  requestContext: {
    ...event.requestContext,
    http: { ...event.requestContext.http, path: `/webhooks/${connectionId}` },
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
  name: FixtureName,
  body: BodyInput | undefined,
  connectionId: string | undefined,
): { event: APIGatewayProxyEventV2; bytes: Buffer } => {
  let event = loadFixture(name);
  if (connectionId !== undefined) event = forConnection(event, connectionId);
  if (body !== undefined) event = withBody(event, body);
  return { event, bytes: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8') };
};

/** Clerk (Standard Webhooks): `svix-id`, `svix-timestamp` (seconds), `svix-signature`. */
export const clerkEvent = (
  body?: BodyInput,
  options: SignedOptions & { id?: string; timestampSeconds?: number } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('clerk.user-updated', body, options.connectionId);
  const id = options.id ?? event.headers['svix-id'] ?? 'msg_test';
  const timestamp = options.timestampSeconds ?? Math.floor((options.now ?? Date.now()) / 1000);
  return withHeaders(event, {
    'svix-id': id,
    'svix-timestamp': String(timestamp),
    'svix-signature': signStandardWebhook(
      options.secret ?? DEMO_SECRETS.clerk,
      id,
      timestamp,
      bytes,
    ),
  });
};

/** WorkOS: `WorkOS-Signature: t=<ms>, v1=<hex>`. */
export const workosEvent = (
  body?: BodyInput,
  options: SignedOptions & { timestampMs?: number } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('workos.user-updated', body, options.connectionId);
  const timestamp = options.timestampMs ?? options.now ?? Date.now();
  return withHeaders(event, {
    'workos-signature': signWorkos(options.secret ?? DEMO_SECRETS.workos, timestamp, bytes),
  });
};

/** Auth0 Event Streams: a static bearer token. */
export const auth0Event = (
  body?: BodyInput,
  options: Omit<SignedOptions, 'now'> = {},
): APIGatewayProxyEventV2 => {
  const { event } = fixtureEvent('auth0.user-updated', body, options.connectionId);
  return withHeaders(event, { authorization: `Bearer ${options.secret ?? DEMO_SECRETS.auth0}` });
};

/** Okta Event Hooks: the configured secret verbatim in `Authorization`. */
export const oktaEvent = (
  body?: BodyInput,
  options: Omit<SignedOptions, 'now'> = {},
): APIGatewayProxyEventV2 => {
  const { event } = fixtureEvent('okta.user-updated', body, options.connectionId);
  return withHeaders(event, { authorization: options.secret ?? DEMO_SECRETS.okta });
};

/** Okta's one-time `GET` verification with `X-Okta-Verification-Challenge`. */
export const oktaChallengeEvent = (
  options: Omit<SignedOptions, 'now'> & { challenge?: string } = {},
): APIGatewayProxyEventV2 => {
  const { event } = fixtureEvent('okta.verification', undefined, options.connectionId);
  return withHeaders(event, {
    authorization: options.secret ?? DEMO_SECRETS.okta,
    ...(options.challenge === undefined
      ? {}
      : { 'x-okta-verification-challenge': options.challenge }),
  });
};

/** GitHub-style HMAC over the raw bytes, or over `${timestamp}.${body}` with a timestamp header. */
export const hmacEvent = (
  body?: BodyInput,
  options: SignedOptions & {
    eventId?: string;
    /** Sends `timestampHeader: <seconds>` and signs it, for connections that configure one. */
    timestampHeader?: string;
    timestampSeconds?: number;
  } = {},
): APIGatewayProxyEventV2 => {
  const { event, bytes } = fixtureEvent('hmac.user-updated', body, options.connectionId);
  const secret = options.secret ?? DEMO_SECRETS.hmac;
  const timestamp =
    options.timestampHeader === undefined
      ? undefined
      : String(options.timestampSeconds ?? Math.floor((options.now ?? Date.now()) / 1000));
  return withHeaders(event, {
    'x-hub-signature-256': signHmac(secret, bytes, HMAC_SCHEME, timestamp),
    ...(options.eventId === undefined ? {} : { 'x-event-id': options.eventId }),
    ...(options.timestampHeader === undefined || timestamp === undefined
      ? {}
      : { [options.timestampHeader]: timestamp }),
  });
};
