import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { ConfigError, ValidationError } from '../../errors.ts';

export interface ValidationDetail {
  path: string;
  message: string;
}

/** Ajv options for our own schemas: strict, every error reported, `["string","null"]` unions allowed. */
export const AJV_OPTIONS: Options = { allErrors: true, strict: true, allowUnionTypes: true };
/** As AJV_OPTIONS, and `required` is not satisfied by something inherited from a prototype. */
export const OWN_PROPERTIES_AJV_OPTIONS: Options = { ...AJV_OPTIONS, ownProperties: true };

/**
 * What assertPayload needs of a validator: ajv's generated functions, and functions combining
 * them, leave ajv-shaped `errors` on themselves after a call.
 */
export interface PayloadValidator<T> {
  (data: unknown): data is T;
  errors?: ErrorObject[] | null;
}

/**
 * JSON-pointer paths and ajv's messages only: ajv messages never quote the data, so personal
 * data cannot leak into a 400 body. `required` errors point at the missing property itself.
 */
export const toValidationDetails = (
  errors: readonly ErrorObject[] | null | undefined,
  prefix = '',
): ValidationDetail[] =>
  (errors ?? []).map((error) => {
    const missing = error.keyword === 'required' ? error.params.missingProperty : undefined;
    const path = `${prefix}${error.instancePath}${typeof missing === 'string' ? `/${missing}` : ''}`;
    return { path, message: error.message ?? 'is invalid' };
  });

export const payloadInvalid = (details: ValidationDetail[]): ValidationError =>
  new ValidationError('PAYLOAD_INVALID', 'The payload does not match the expected schema', {
    details,
  });

/** Narrows `payload` or throws 400 PAYLOAD_INVALID with the ajv paths. */
export function assertPayload<T>(
  validate: PayloadValidator<T>,
  payload: unknown,
  prefix = '',
): asserts payload is T {
  if (!validate(payload)) throw payloadInvalid(toValidationDetails(validate.errors, prefix));
}

/** A connection's `options`, typed, or ConfigError naming the connection. */
export const readOptions = <T>(
  validate: ValidateFunction<T>,
  options: unknown,
  connectionId: string,
): T => {
  if (!validate(options)) {
    throw new ConfigError(`Connection "${connectionId}" has invalid source options`, {
      details: toValidationDetails(validate.errors, '/options'),
    });
  }
  return options;
};

/** `options.eventTypes`, the same for every source: which event types count as user changes. */
export const EVENT_TYPES_OPTION = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 200 },
} as const;

/** `options.toleranceSeconds` for signed timestamps (replay window). */
export const TOLERANCE_SECONDS_OPTION = { type: 'integer', minimum: 1, maximum: 3600 } as const;
