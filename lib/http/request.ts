import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AdapterError } from '../errors.ts';

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

/** Webhook bodies are small (Standard Webhooks recommends < 20 kB); 256 KB leaves ample room. */
export const MAX_BODY_BYTES = 256 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns an HTTP API (payload v2) event into the exact bytes and headers sources verify.
 * Signatures are computed over these bytes, never over re-serialised JSON.
 */
export const toInboundRequest = (
  event: APIGatewayProxyEventV2,
  maxBytes = MAX_BODY_BYTES,
): InboundRequest => {
  const body = event.body ?? '';
  // Cheap bound before decoding: base64 inflates by 4/3, UTF-16 strings never exceed 3 bytes/char.
  if (body.length > maxBytes * 4) throw tooLarge(maxBytes);
  const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (rawBody.length > maxBytes) throw tooLarge(maxBytes);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    headers,
    query,
    rawBody,
  };
};

/**
 * The text of a body, decoded once from the bytes that were verified. JSON must be UTF-8
 * (RFC 8259); decoding leniently would verify one text and parse another.
 */
export const bodyText = (rawBody: Buffer): string => {
  try {
    return utf8.decode(rawBody);
  } catch {
    throw new AdapterError('PAYLOAD_INVALID', 'The body is not valid UTF-8');
  }
};

const tooLarge = (maxBytes: number) =>
  new AdapterError('PAYLOAD_TOO_LARGE', `The body exceeds ${maxBytes} bytes`);

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/** Webhook senders all post JSON; anything else is refused before the body parser sees it. */
export const assertJsonContentType = (request: InboundRequest): void => {
  const contentType = request.headers['content-type'];
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType.trim())) {
    throw new AdapterError('UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json', {});
  }
};
