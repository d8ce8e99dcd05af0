import type { ErrorCode } from '../errors.ts';
import type { HttpResult } from '../http/response.ts';
import { jsonResponse, toAdapterError } from '../http/response.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 `scimType` for the error-table codes that have one; the one place they meet. */
const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  SCIM_INVALID_FILTER: 'invalidFilter',
  SCIM_INVALID_PATH: 'invalidPath',
  SCIM_INVALID_VALUE: 'invalidValue',
  SCIM_INVALID_SYNTAX: 'invalidSyntax',
  SCIM_NO_TARGET: 'noTarget',
  SCIM_MUTABILITY: 'mutability',
  PAYLOAD_INVALID: 'invalidSyntax',
  MAPPING_INVALID: 'invalidValue',
  REQUEST_INVALID: 'invalidValue',
  UPSTREAM_REJECTED: 'invalidValue',
  SCIM_UNIQUENESS: 'uniqueness',
  UPSTREAM_CONFLICT: 'uniqueness',
  USER_AMBIGUOUS: 'uniqueness',
};

export const scimTypeOf = (code: ErrorCode): string | undefined => SCIM_TYPES[code];

export const scimResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => jsonResponse(statusCode, body, headers, SCIM_CONTENT_TYPE);

/** Any failure as an RFC 7644 Error: `status` a string, `scimType` where the code has one. */
export const scimErrorResponse = (thrown: unknown): HttpResult => {
  const error = toAdapterError(thrown);
  const scimType = scimTypeOf(error.code);
  return scimResponse(
    error.statusCode,
    {
      schemas: [ERROR_SCHEMA],
      status: String(error.statusCode),
      ...(scimType === undefined ? {} : { scimType }),
      detail: error.expose ? error.message : 'Internal error',
      code: error.code,
    },
    error.headers,
  );
};
