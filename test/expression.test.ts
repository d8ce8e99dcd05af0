import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import {
  compileExpression,
  EXPRESSION_LIMITS,
  ExpressionError,
  expressionErrorCode,
} from '../lib/expression.ts';

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('compileExpression', () => {
  it('evaluates a compiled expression against its input', async () => {
    const expression = compileExpression('user.email');
    await expect(expression.evaluate({ user: { email: 'a@example.com' } })).resolves.toBe(
      'a@example.com',
    );
    await expect(expression.evaluate({})).resolves.toBeUndefined();
  });

  it('throws ExpressionError with the JSONata code for a syntax error', () => {
    expect(() => compileExpression('user.(')).toThrow(
      expect.objectContaining({
        name: 'ExpressionError',
        jsonataCode: expect.stringMatching(/^S\d{4}$/),
      }),
    );
  });

  it('stops tail recursion with the time limit (D1012)', async () => {
    const loop = compileExpression('($f := function($n){ $f($n+1) }; $f(0))');
    const error = await rejection(loop.evaluate({}));
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).toMatchObject({ jsonataCode: 'D1012' });
  });

  it('stops deep recursion with the stack limit (D1011)', async () => {
    const deep = compileExpression('($f := function($n){ 1 + $f($n+1) }; $f(0))');
    const error = await rejection(deep.evaluate({}));
    expect(error).toMatchObject({ name: 'ExpressionError', jsonataCode: 'D1011' });
  });

  it('allows recursion within the stack limit', async () => {
    const depth = Math.floor(EXPRESSION_LIMITS.stack / 10);
    const count = compileExpression(
      `($f := function($n){ $n = 0 ? 0 : 1 + $f($n-1) }; $f(${depth}))`,
    );
    await expect(count.evaluate({})).resolves.toBe(depth);
  });

  it('keeps only the code of an evaluation error, never the value it quotes', async () => {
    const cast = compileExpression('$number(secret)');
    const error = await rejection(cast.evaluate({ secret: 'jane@example.com' }));
    expect(error).toMatchObject({ name: 'ExpressionError', jsonataCode: 'D3030' });
    expect((error as Error).message).toBe('JSONata evaluate failed (D3030)');
    expect((error as Error).cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('jane@example.com');
  });
});

describe('expressionErrorCode', () => {
  it('reads the code of an ExpressionError or a raw JSONata error', () => {
    expect(expressionErrorCode(new ExpressionError('evaluate', 'T2001'))).toBe('T2001');
    expect(expressionErrorCode({ code: 'D3030', message: 'quotes jane@example.com' })).toBe(
      'D3030',
    );
  });

  it.each([
    ['an Error without a code', new Error('boom')],
    ['a code that is not a JSONata code', { code: 'jane@example.com' }],
    ['a non-string code', { code: 3030 }],
    ['null', null],
    ['a string', 'S0201'],
  ])('answers unknown for %s', (_label, error) => {
    expect(expressionErrorCode(error)).toBe('unknown');
  });
});

describe('compileExpression on bare paths (read without JSONata)', () => {
  const names = fc.constantFrom('a', 'b', 'user', 'email', 'and', 'true', 'constructor', 'length');
  // JSON-like inputs that reach the paths above: objects, arrays, scalars, null.
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(names, tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  // JSONata's arrays carry a hidden `sequence` flag: compare plain JSON.
  const plain = (value: unknown) =>
    value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
  const outcome = async (run: () => Promise<unknown>) => {
    try {
      return { value: plain(await run()) };
    } catch (error) {
      return { code: expressionErrorCode(error) };
    }
  };

  it('answers exactly what JSONata answers, whatever the input, failing where JSONata fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(names, { minLength: 1, maxLength: 3 }),
        json,
        async (steps, input) => {
          const source = steps.join('.');
          const expected = await outcome(() => jsonata(source).evaluate(input));
          expect(await outcome(() => compileExpression(source).evaluate(input))).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a nested value, and undefined past a missing step or a scalar', async () => {
    const path = compileExpression('data.user.email');
    await expect(path.evaluate({ data: { user: { email: 'x@example.com' } } })).resolves.toBe(
      'x@example.com',
    );
    await expect(path.evaluate({ data: { user: 'scalar' } })).resolves.toBeUndefined();
    await expect(path.evaluate({ data: null })).resolves.toBeUndefined();
  });

  it('leaves arrays on the way to JSONata, which maps over them', async () => {
    const path = compileExpression('emails.address');
    await expect(
      path.evaluate({ emails: [{ address: 'a@example.com' }, { address: 'b@example.com' }] }),
    ).resolves.toSatisfy(
      (value) => JSON.stringify(value) === JSON.stringify(['a@example.com', 'b@example.com']),
    );
  });
});
