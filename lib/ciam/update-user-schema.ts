import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type ErrorCode, ValidationError } from '../errors.ts';
import type { UpdateUserDraft, UpdateUserRequest } from './types.ts';

const text = { type: 'string' } as const;
// Tencent rejects longer values with FailedOperation.IndexedAttributeTooLong; fail before the call.
const indexed = { type: 'string', maxLength: 512 } as const;
const strings = { type: 'array', items: text } as const;

const draftProperties = {
  UserStoreId: { type: 'string', minLength: 1 },
  UserName: text,
  PhoneNumber: text,
  Email: text,
  Nickname: text,
  Address: text,
  UserGroup: strings,
  // Epoch milliseconds (reference/tencent-cloud-api.md §4.3).
  Birthdate: { type: 'integer' },
  CustomizationAttributes: {
    type: 'array',
    items: {
      type: 'object',
      required: ['Name', 'Value'],
      additionalProperties: false,
      properties: { Name: text, Value: text, Type: text },
    },
  },
  IndexedAttribute1: indexed,
  IndexedAttribute2: indexed,
  IndexedAttribute3: indexed,
  IndexedAttribute4: indexed,
  IndexedAttribute5: indexed,
  UserOrg: strings,
} as const;

/** CIAM 2022-03-31 UpdateUser request body (JSON Schema draft-07). */
export const updateUserRequestSchema = {
  type: 'object',
  required: ['UserId', 'UserStoreId'],
  // Tencent answers UnknownParameter for unknown fields; catch typos in mappings here instead.
  additionalProperties: false,
  properties: { UserId: { type: 'string', minLength: 1 }, ...draftProperties },
} as const;

const updateUserDraftSchema = {
  type: 'object',
  required: ['UserStoreId'],
  additionalProperties: false,
  properties: draftProperties,
} as const;

const ajv = new Ajv({ allErrors: true });
const validateRequest = ajv.compile<UpdateUserRequest>(updateUserRequestSchema);
const validateDraft = ajv.compile<UpdateUserDraft>(updateUserDraftSchema);

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
