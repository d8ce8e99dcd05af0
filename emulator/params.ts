/**
 * Request-parameter checks with Tencent's common codes: UnknownParameter, MissingParameter and
 * InvalidParameter (wrong JSON type). Hand-rolled rather than ajv because each failure must map to
 * one specific code, and the path must read like Tencent's (`Filters.0.PropertyKey`).
 */
import { ApiError } from './api-error.ts';

type Shape =
  | { kind: 'string' }
  | { kind: 'integer' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'array'; items: Shape }
  | { kind: 'object'; fields: Fields };

type Fields = Readonly<Record<string, { shape: Shape; required?: boolean }>>;

const string: Shape = { kind: 'string' };
const integer: Shape = { kind: 'integer' };
const boolean: Shape = { kind: 'boolean' };
/**
 * Birthdate is "Integer" in the docs, but a fractional number is a format problem that the
 * business rules report (FailedOperation.AttributeFormatError); only a non-number is a type error.
 */
const number: Shape = { kind: 'number' };
const arrayOf = (items: Shape): Shape => ({ kind: 'array', items });
const object = (fields: Fields): Shape => ({ kind: 'object', fields });
const req = (shape: Shape) => ({ shape, required: true });
const opt = (shape: Shape) => ({ shape });

const memberMap = object({ Name: req(string), Value: req(string), Type: opt(string) });
const pageable = object({ PageSize: req(integer), PageNumber: req(integer) });
/** ListUser's and ListUserGroups' filter; which keys a store accepts is its business. */
const listFilters = opt(
  arrayOf(object({ Key: opt(string), Values: opt(arrayOf(string)), Logic: opt(boolean) })),
);

const profileFields = {
  Nickname: opt(string),
  Address: opt(string),
  UserGroup: opt(arrayOf(string)),
  Birthdate: opt(number),
  CustomizationAttributes: opt(arrayOf(memberMap)),
  IndexedAttribute1: opt(string),
  IndexedAttribute2: opt(string),
  IndexedAttribute3: opt(string),
  IndexedAttribute4: opt(string),
  IndexedAttribute5: opt(string),
  UserOrg: opt(arrayOf(string)),
} as const;

export const ACTION_PARAMS: Readonly<Record<string, Fields>> = {
  UpdateUser: {
    UserId: req(string),
    UserStoreId: req(string),
    UserName: opt(string),
    PhoneNumber: opt(string),
    Email: opt(string),
    ...profileFields,
  },
  CreateUser: {
    UserStoreId: req(string),
    PhoneNumber: req(string),
    Email: req(string),
    Password: req(string),
    UserName: req(string),
    ...profileFields,
  },
  DescribeUserById: { UserStoreId: req(string), UserId: req(string), Original: opt(boolean) },
  // Status is checked by the store: CIAM answers FailedOperation.UserStatusRequired without it.
  UpdateUserStatus: { UserStoreId: req(string), UserId: req(string), Status: opt(string) },
  ListUserByProperty: {
    UserStoreId: req(string),
    PropertyCode: req(string),
    PropertyValue: req(string),
    Original: opt(boolean),
  },
  DescribeUser: {
    UserStoreId: req(string),
    Pageable: req(pageable),
    Filters: opt(
      arrayOf(
        object({
          PropertyKey: req(string),
          PropertyValue: req(string),
          Logic: req(boolean),
          OperateLogic: req(string),
        }),
      ),
    ),
    Original: opt(boolean),
    Sort: opt(object({ PropertyKey: req(string), Order: req(string) })),
  },
  ListUser: {
    UserStoreId: req(string),
    Pageable: req(pageable),
    Filters: listFilters,
    Original: opt(boolean),
  },
  ListUserGroups: { UserStoreId: req(string), Pageable: req(pageable), Filters: listFilters },
};

const typeName = (shape: Shape): string =>
  shape.kind === 'array' ? 'array' : shape.kind === 'object' ? 'object' : shape.kind;

const matches = (shape: Shape, value: unknown): boolean => {
  switch (shape.kind) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
};

const checkValue = (shape: Shape, value: unknown, path: string): void => {
  if (!matches(shape, value)) {
    throw new ApiError(
      'InvalidParameter',
      `The value type of parameter \`${path}\` is incorrect; expected ${typeName(shape)}.`,
    );
  }
  if (shape.kind === 'array') {
    (value as unknown[]).forEach((item, i) => {
      checkValue(shape.items, item, `${path}.${i}`);
    });
  } else if (shape.kind === 'object') {
    checkFields(shape.fields, value as Record<string, unknown>, `${path}.`);
  }
};

const checkFields = (fields: Fields, value: Record<string, unknown>, prefix: string): void => {
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(fields, key)) {
      throw new ApiError(
        'UnknownParameter',
        `The parameter \`${prefix}${key}\` is not recognized.`,
      );
    }
  }
  for (const [key, spec] of Object.entries(fields)) {
    const present = value[key] !== undefined && value[key] !== null;
    if (!present) {
      if (spec.required) {
        throw new ApiError(
          'MissingParameter',
          `The request is missing a required parameter \`${prefix}${key}\`.`,
        );
      }
      continue;
    }
    checkValue(spec.shape, value[key], `${prefix}${key}`);
  }
};

/** Parses the raw body and checks it against the action's parameters. */
export const parseParams = (action: string, body: Buffer): Record<string, unknown> => {
  const fields = ACTION_PARAMS[action];
  if (!fields)
    throw new ApiError('InvalidAction', `The requested action \`${action}\` does not exist.`);
  let value: unknown = {};
  const text = body.toString('utf8');
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError('InvalidParameter', 'The request body is not valid JSON.');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('InvalidParameter', 'The request body must be a JSON object.');
  }
  const params = value as Record<string, unknown>;
  checkFields(fields, params, '');
  return params;
};
