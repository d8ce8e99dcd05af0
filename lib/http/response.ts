import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AdapterError, isAdapterError } from '../errors.ts';
import { isUpstreamError } from '../tencent/errors.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
};

/** Every answer the functions give is JSON (SCIM's media type is JSON too); no body when undefined. */
export const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResult => ({
  statusCode,
  headers: { 'content-type': contentType, ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

interface MiddyHttpErrorLike {
  statusCode: number;
  cause?: { package?: string };
}

const isMiddyHttpError = (error: unknown): error is MiddyHttpErrorLike =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as { statusCode?: unknown }).statusCode === 'number';

/**
 * Normalises anything thrown in the chain to an AdapterError. Middy's JSON parser reports a
 * malformed body as 415; we report it as the bad payload it is.
 */
export const toAdapterError = (error: unknown): AdapterError => {
  if (isAdapterError(error)) return error;
  if (isMiddyHttpError(error) && error.cause?.package === '@middy/http-json-body-parser') {
    return new AdapterError('PAYLOAD_INVALID', 'The body is not valid JSON', {
      cause: error,
    });
  }
  return new AdapterError('INTERNAL', 'Internal error', { cause: error });
};

export const errorResponse = (error: AdapterError): HttpResult => {
  const extra: Record<string, unknown> = {};
  if (isUpstreamError(error)) {
    extra.upstreamCode = error.upstreamCode;
    if (error.requestId !== undefined) extra.requestId = error.requestId;
  }
  if (!error.expose) {
    return jsonResponse(
      error.statusCode,
      { code: error.code, message: 'Internal error' },
      error.headers,
    );
  }
  return jsonResponse(
    error.statusCode,
    {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      ...extra,
    },
    error.headers,
  );
};
