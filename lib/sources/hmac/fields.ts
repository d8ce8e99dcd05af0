import { ConfigError } from '../../errors.ts';
import {
  type CompiledExpression,
  compileExpression,
  expressionErrorCode,
} from '../../expression.ts';
import { payloadInvalid } from '../shared/validation.ts';
import type { HmacFieldName } from './schema.ts';

export type CompiledFields = Partial<Record<HmacFieldName, CompiledExpression>>;
export type FieldValues = Partial<Record<HmacFieldName, string | number>>;

/** Compiled once per connection; a syntax error is a deployment error, not a bad delivery. */
export const compileFields = (
  fields: Partial<Record<HmacFieldName, string>>,
  connectionId: string,
): CompiledFields => {
  const compiled: CompiledFields = {};
  for (const [name, source] of Object.entries(fields) as [HmacFieldName, string][]) {
    try {
      compiled[name] = compileExpression(source);
    } catch (error) {
      throw new ConfigError(`Connection "${connectionId}" has an invalid JSONata expression`, {
        cause: error,
        details: { field: `fields.${name}`, code: expressionErrorCode(error) },
      });
    }
  }
  return compiled;
};

/** The detail path names the configured field (`fields.email`): the expression, not the payload. */
export const fieldPath = (name: HmacFieldName): string => `fields.${name}`;

export const fieldInvalid = (name: HmacFieldName, message: string) =>
  payloadInvalid([{ path: fieldPath(name), message }]);

/**
 * Strings pass; numbers and booleans become strings (ids are often numeric); birthdate and
 * occurredAt keep numbers as epoch values. Objects and arrays (e.g. a path that matched twice)
 * are refused rather than guessed at.
 */
const coerce = (name: HmacFieldName, value: unknown): string | number | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    return name === 'birthdate' || name === 'occurredAt' ? value : String(value);
  }
  if (typeof value === 'boolean') return String(value);
  throw fieldInvalid(name, 'must yield a string');
};

export const evaluateFields = async (
  compiled: CompiledFields,
  payload: unknown,
): Promise<FieldValues> => {
  const entries = Object.entries(compiled) as [HmacFieldName, CompiledExpression][];
  const results = await Promise.all(
    entries.map(async ([name, expression]) => {
      let value: unknown;
      try {
        value = await expression.evaluate(payload);
      } catch (error) {
        // Including a recursive expression stopped by EXPRESSION_LIMITS (D1011 / D1012).
        throw fieldInvalid(name, `could not be evaluated (${expressionErrorCode(error)})`);
      }
      return [name, coerce(name, value)] as const;
    }),
  );
  const values: FieldValues = {};
  for (const [name, value] of results) {
    if (value !== undefined) values[name] = value;
  }
  return values;
};
