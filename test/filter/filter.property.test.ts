import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFilter, compileFilter, type FilterNode } from '../../lib/filter/index.ts';

// compileFilter against a reference evaluator written from docs/filters.md alone ("How a filter
// reads its input"), over random filters and random inputs drawn from one small vocabulary of
// keys and values, so paths often hit, miss, meet arrays and nulls. FILTER_SEED replays a run,
// FILTER_RUNS changes its size; the seed is printed on every run.

const seed = Number(process.env.FILTER_SEED ?? Date.now() % 2_147_483_647);
const numRuns = Number(process.env.FILTER_RUNS ?? 2000);

// ---- The reference: docs/filters.md, step by step, by collecting every value a path reaches. ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** "An array is looked through: each element stands for the array; an array in an array does not." */
const elements = (value: unknown): unknown[] =>
  Array.isArray(value) ? value.filter((element) => !Array.isArray(element)) : [value];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** "The values a path reaches": missing properties, nulls and dead ends reach nothing. */
const reached = (input: Record<string, unknown>, path: string): unknown[] => {
  const [root = '', ...names] = path.split('.');
  let values: unknown[] = Object.hasOwn(input, root) ? [input[root]] : [];
  for (const name of names) {
    const next: unknown[] = [];
    for (const value of values) {
      for (const element of elements(value)) {
        if (isObject(element) && Object.hasOwn(element, name)) {
          next.push(element[name]);
        }
      }
    }
    values = next;
  }
  return values.flatMap(elements).filter((value) => value !== null && value !== undefined);
};

const reference = (filter: FilterNode, input: Record<string, unknown>): boolean => {
  if ('all' in filter) return filter.all.every((child) => reference(child, input));
  if ('any' in filter) return filter.any.some((child) => reference(child, input));
  if ('not' in filter) return !reference(filter.not, input);
  const values = reached(input, filter.path);
  const wanted = filter.value;
  switch (filter.op) {
    case 'exists':
      return values.length > 0;
    case 'eq':
      return values.includes(wanted);
    case 'ne':
      return !values.includes(wanted);
    case 'in':
      return values.some((value) => (wanted as unknown[]).includes(value));
    case 'startsWith':
      return values.some((v) => typeof v === 'string' && v.startsWith(wanted as string));
    case 'endsWith':
      return values.some((v) => typeof v === 'string' && v.endsWith(wanted as string));
    case 'gt':
      return values.some((v) => typeof v === 'number' && v > (wanted as number));
    case 'lt':
      return values.some((v) => typeof v === 'number' && v < (wanted as number));
  }
};

// ---- Generators ----

const KEYS = ['a', 'b', 'c'];
const STRINGS = ['x', 'y', 'xy', 'yx', 'x@example.com', ''];
const NUMBERS = [-1, 0, 1, 2.5, 3];

const scalar = fc.oneof(fc.constantFrom(...STRINGS), fc.constantFrom(...NUMBERS), fc.boolean());

const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const input = fc.record(
  { change: json, update: json, payload: json },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, unknown>>;

const path = fc
  .tuple(
    fc.constantFrom('change', 'update', 'payload'),
    fc.array(fc.constantFrom(...KEYS), { maxLength: 3 }),
  )
  .map(([root, names]) => [root, ...names].join('.'));

const condition: fc.Arbitrary<FilterNode> = fc.oneof(
  path.map((p) => ({ path: p, op: 'exists' as const })),
  fc.record({ path, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
  fc.record({
    path,
    op: fc.constant('in' as const),
    value: fc.array(scalar, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    path,
    op: fc.constantFrom('startsWith' as const, 'endsWith' as const),
    value: fc.constantFrom('x', 'y', '@example.com'),
  }),
  fc.record({
    path,
    op: fc.constantFrom('gt' as const, 'lt' as const),
    value: fc.constantFrom(...NUMBERS),
  }),
);

/** Filters within the limits: at most 4 nested groups, at most 3 × 3 × 3 conditions. */
const filterOf = (depth: number): fc.Arbitrary<FilterNode> =>
  depth === 0
    ? condition
    : fc.oneof(
        { weight: 2, arbitrary: condition },
        {
          weight: 1,
          arbitrary: fc
            .array(filterOf(depth - 1), { minLength: 1, maxLength: 3 })
            .map((all) => ({ all })),
        },
        {
          weight: 1,
          arbitrary: fc
            .array(filterOf(depth - 1), { minLength: 1, maxLength: 3 })
            .map((any) => ({ any })),
        },
        { weight: 1, arbitrary: filterOf(depth - 1).map((not) => ({ not })) },
      );

const filter = filterOf(4);

describe(`filters against the reference evaluator (FILTER_SEED=${seed} FILTER_RUNS=${numRuns})`, () => {
  it('prints its seed', () => {
    console.info(`filter property: FILTER_SEED=${seed} FILTER_RUNS=${numRuns}`);
  });

  it('decide every input as the documented semantics do', () => {
    fc.assert(
      fc.property(filter, fc.array(input, { minLength: 1, maxLength: 5 }), (node, inputs) => {
        expect(checkFilter(node, '/filter')).toEqual([]);
        const compiled = compileFilter(node);
        for (const each of inputs) {
          expect(compiled(each), JSON.stringify({ node, each })).toBe(reference(node, each));
        }
      }),
      { seed, numRuns },
    );
  });

  it('are decided both ways often enough to mean something', () => {
    // A filter that always answers the same would pass the property above without testing much.
    let inside = 0;
    let outside = 0;
    fc.assert(
      fc.property(filter, input, (node, each) => {
        if (compileFilter(node)(each)) inside += 1;
        else outside += 1;
      }),
      { seed, numRuns: 500 },
    );
    expect(Math.min(inside, outside)).toBeGreaterThan(50);
  });
});
