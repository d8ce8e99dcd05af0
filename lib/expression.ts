import type jsonata from 'jsonata';
import { requireOnFirstUse } from './require-on-first-use.ts';

/**
 * JSONata is loaded on first use: only connections with real expressions (not bare paths) need
 * it, so a config of paths never pays for it at cold start.
 */
const loadJsonata = requireOnFirstUse<typeof jsonata>('jsonata', () => require('jsonata'));

/**
 * Every JSONata expression comes from config, so it is trusted, but a recursive one must fail the
 * delivery in milliseconds rather than hang it past the sender's timeout. `stack` stops deep
 * recursion; `timeout` stops tail recursion, which JSONata runs as a loop that never deepens the
 * stack. Both are checked between evaluation steps, not inside a single built-in function call.
 */
export const EXPRESSION_LIMITS = { timeout: 500, stack: 200 } as const;

/** JSONata codes: a letter for the phase (S syntax, T type, D dynamic, U…) and four digits. */
const JSONATA_CODE = /^[A-Z]\d{4}$/;

/** What callers report when a failure carries no JSONata code (e.g. a bug inside JSONata). */
export const UNKNOWN_EXPRESSION_CODE = 'unknown';

/**
 * A JSONata failure reduced to its code. Neither JSONata's message nor its error object is kept
 * (not even as `cause`), so logging this error cannot leak what the expression was evaluated on.
 * Callers turn it into their own AdapterError (CONFIG_INVALID, PAYLOAD_INVALID, MAPPING_INVALID).
 */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  readonly jsonataCode: string;

  constructor(phase: 'compile' | 'evaluate', jsonataCode: string) {
    super(`JSONata ${phase} failed (${jsonataCode})`);
    this.jsonataCode = jsonataCode;
  }
}

/**
 * The JSONata code of a failure (`S0201`, `D1011`, …), or `unknown`. Safe to log and to put in a
 * response: it is never the message, which may quote input values (D3030 quotes the value it
 * could not cast), and input values are personal data.
 */
export const expressionErrorCode = (error: unknown): string => {
  if (error instanceof ExpressionError) return error.jsonataCode;
  const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' && JSONATA_CODE.test(code) ? code : UNKNOWN_EXPRESSION_CODE;
};

export interface CompiledExpression {
  /** Rejects with ExpressionError when evaluation fails or hits EXPRESSION_LIMITS. */
  evaluate(input: unknown): Promise<unknown>;
}

/**
 * A bare path of names (`email`, `data.user.email`): most mappings are one. Such a path is read
 * without JSONata, so JSONata is not even loaded for configs that have only paths.
 * Words JSONata reads as operators or literals are left to JSONata.
 */
const BARE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const JSONATA_WORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);

/** What `readPath` returns when the input is outside what it mirrors of JSONata. */
const NEEDS_JSONATA = Symbol('needs JSONata');

/**
 * JSONata's result for a bare path over plain objects and scalars: the value, or undefined where a
 * step is missing or lands on a scalar. Arrays (which JSONata maps over and flattens) and inherited
 * properties are left to JSONata itself; test/expression.test.ts checks the two agree.
 */
const readPath = (input: unknown, steps: readonly string[]): unknown => {
  let value = input;
  for (const step of steps) {
    if (typeof value !== 'object' || value === null) return undefined;
    if (Array.isArray(value)) return NEEDS_JSONATA;
    if (!Object.hasOwn(value, step)) return step in value ? NEEDS_JSONATA : undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return Array.isArray(value) ? NEEDS_JSONATA : value;
};

const compileJsonata = (source: string): CompiledExpression => {
  let compiled: jsonata.Expression;
  try {
    compiled = loadJsonata()(source, { ...EXPRESSION_LIMITS });
  } catch (error) {
    throw new ExpressionError('compile', expressionErrorCode(error));
  }
  return {
    async evaluate(input) {
      try {
        return await compiled.evaluate(input);
      } catch (error) {
        throw new ExpressionError('evaluate', expressionErrorCode(error));
      }
    },
  };
};

/**
 * Compiles once (at cold start) with EXPRESSION_LIMITS; throws ExpressionError on a syntax error.
 *
 * @example
 * const expression = compileExpression('user.email');
 * await expression.evaluate({ user: { email: 'a@example.com' } }); // 'a@example.com'
 */
export const compileExpression = (source: string): CompiledExpression => {
  const steps = BARE_PATH.test(source) ? source.split('.') : undefined;
  if (steps === undefined || steps.some((step) => JSONATA_WORDS.has(step))) {
    return compileJsonata(source);
  }
  let viaJsonata: CompiledExpression | undefined;
  return {
    async evaluate(input) {
      const value = readPath(input, steps);
      if (value !== NEEDS_JSONATA) return value;
      viaJsonata ??= compileJsonata(source);
      return viaJsonata.evaluate(input);
    },
  };
};
