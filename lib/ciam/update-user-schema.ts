import type { ErrorObject, ValidateFunction } from 'ajv';
import { type ErrorCode, ValidationError } from '../errors.ts';
import * as generated from '../validators/generated.js';
import type { UpdateUserDraft, UpdateUserRequest } from './types.ts';
import { updateUserProperties } from './update-user-fields.ts';

/**
 * CIAM 2022-03-31 UpdateUser request body (JSON Schema draft-07), from UPDATE_USER_FIELDS.
 * Tencent answers UnknownParameter for unknown fields; `additionalProperties: false` catches
 * typos in mappings here instead.
 */
export const updateUserRequestSchema = {
  type: 'object',
  additionalProperties: false,
  ...updateUserProperties(() => true),
};

/** What mapping produces: the request without the UserId that user resolution adds. */
export const updateUserDraftSchema = {
  type: 'object',
  additionalProperties: false,
  ...updateUserProperties((from) => from !== 'resolver'),
};

// Generated at build time from the schemas above (npm run build:validators).
const validateRequest = generated.updateUserRequest as ValidateFunction<UpdateUserRequest>;
const validateDraft = generated.updateUserDraft as ValidateFunction<UpdateUserDraft>;

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Paths name the offending field, never its value (values may be personal data). */
const toIssue = (error: ErrorObject): SchemaIssue => {
  const { params } = error as { params: Record<string, unknown> };
  const field =
    error.keyword === 'required'
      ? params.missingProperty
      : error.keyword === 'additionalProperties'
        ? params.additionalProperty
        : undefined;
  const path = typeof field === 'string' ? `${error.instancePath}/${field}` : error.instancePath;
  return { path, message: error.message ?? `failed ${error.keyword}` };
};

const check = <T>(
  validate: ValidateFunction<T>,
  value: unknown,
  code: ErrorCode,
  what: string,
): void => {
  if (validate(value)) return;
  throw new ValidationError(code, `${what} is invalid`, {
    details: (validate.errors ?? []).map(toIssue),
  });
};

export function assertValidUpdateUser(request: unknown): asserts request is UpdateUserRequest {
  check(validateRequest, request, 'REQUEST_INVALID', 'UpdateUser request');
}

/** Checks what mapping produced, before user resolution adds the UserId. */
export function validateUpdateUserDraft(draft: unknown): asserts draft is UpdateUserDraft {
  check(validateDraft, draft, 'MAPPING_INVALID', 'UpdateUser draft');
}
