import { ConfigError } from '../errors.ts';
import { isRecord } from '../is-record.ts';

/**
 * A connection's scoping filter (docs/filters.md): conditions on the change, its mapped update and
 * the webhook payload, combined with `all` / `any` / `not`. Deliberately small: a fixed set of
 * operators on dotted paths, bounded in size and depth, no regular expressions and no code, so a
 * filter costs at most a few hundred comparisons and cannot be made to run long by a payload.
 */

export const FILTER_OPERATORS = [
  'eq',
  'ne',
  'in',
  'exists',
  'startsWith',
  'endsWith',
  'gt',
  'lt',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/** What a path's first segment names: the canonical change, the mapped update, the payload. */
export const FILTER_ROOTS = ['change', 'update', 'payload'] as const;
export type FilterRoot = (typeof FILTER_ROOTS)[number];

export const FILTER_LIMITS = {
  /** Conditions in one filter, however nested. */
  conditions: 32,
  /** Groups (`all`, `any`, `not`) a condition may sit in. */
  depth: 4,
  /** Values of one `in` list. */
  inValues: 100,
  /** Characters of a string value, and of a path. */
  stringLength: 256,
  /** Segments of a path, its root included. */
  pathSegments: 8,
} as const;

export type FilterScalar = string | number | boolean;

export interface FilterCondition {
  /** Dotted, from a root: `change.subject.email`, `update.Email`, `payload.data.id`. */
  path: string;
  op: FilterOperator;
  /** None for `exists`; a list for `in`; a string, number or boolean otherwise. */
  value?: FilterScalar | FilterScalar[];
}

export type FilterNode =
  | { all: FilterNode[] }
  | { any: FilterNode[] }
  | { not: FilterNode }
  | FilterCondition;

/** What a filter is evaluated against; a root left out is absent (no `payload` outside webhooks). */
export interface FilterInput {
  change?: unknown;
  update?: unknown;
  payload?: unknown;
}

export type CompiledFilter = ((input: FilterInput) => boolean) & {
  /** The roots the filter's paths read, e.g. to evaluate it before mapping when `update` is not. */
  readonly roots: ReadonlySet<FilterRoot>;
};

/** One thing wrong with a filter: a JSON Pointer to it and what is wrong there. */
export interface FilterProblem {
  path: string;
  message: string;
}

const GROUP_KEYS = ['all', 'any', 'not'] as const;
const CONDITION_KEYS = new Set(['path', 'op', 'value']);
const OPERATORS = new Set<string>(FILTER_OPERATORS);
const ROOTS = new Set<string>(FILTER_ROOTS);

const isScalar = (value: unknown): value is FilterScalar =>
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value)) ||
  (typeof value === 'string' && value.length <= FILTER_LIMITS.stringLength);

const SCALAR_TEXT = `a string of at most ${FILTER_LIMITS.stringLength} characters, a number or a boolean`;

/** What is wrong with `value` for `op`, or undefined when it fits. */
const valueProblem = (op: FilterOperator, value: unknown, present: boolean): string | undefined => {
  switch (op) {
    case 'exists':
      return present ? '"exists" takes no value' : undefined;
    case 'in':
      if (!Array.isArray(value) || value.length === 0 || value.length > FILTER_LIMITS.inValues) {
        return `"in" takes a list of 1 to ${FILTER_LIMITS.inValues} values`;
      }
      return value.every(isScalar) ? undefined : `every "in" value must be ${SCALAR_TEXT}`;
    case 'eq':
    case 'ne':
      return isScalar(value) ? undefined : `"${op}" takes ${SCALAR_TEXT}`;
    case 'startsWith':
    case 'endsWith':
      return typeof value === 'string' &&
        value.length > 0 &&
        value.length <= FILTER_LIMITS.stringLength
        ? undefined
        : `"${op}" takes a string of 1 to ${FILTER_LIMITS.stringLength} characters`;
    case 'gt':
    case 'lt':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `"${op}" takes a number`;
  }
};

/** What is wrong with a path, or undefined when it is one this module can read. */
const pathProblem = (path: unknown): string | undefined => {
  if (typeof path !== 'string' || path.length === 0 || path.length > FILTER_LIMITS.stringLength) {
    return `must be a string of 1 to ${FILTER_LIMITS.stringLength} characters`;
  }
  const segments = path.split('.');
  if (!ROOTS.has(segments[0] ?? '')) {
    return `must start with ${FILTER_ROOTS.join(', ')} (then ".", then a name)`;
  }
  if (segments.length > FILTER_LIMITS.pathSegments) {
    return `has ${segments.length} segments, more than ${FILTER_LIMITS.pathSegments}`;
  }
  if (segments.some((segment) => segment === '')) return 'has an empty segment';
  return undefined;
};

/**
 * Every problem of a filter, each at its JSON Pointer below `pointer` (e.g.
 * `/connections/2/filter/all/1/path`): its shape, its operators' values, and the limits on
 * conditions, depth, lists, strings and paths. An empty list means `compileFilter` accepts it.
 */
export const checkFilter = (filter: unknown, pointer: string): FilterProblem[] => {
  const problems: FilterProblem[] = [];
  let conditions = 0;
  const visit = (node: unknown, at: string, depth: number): void => {
    if (!isRecord(node)) {
      problems.push({ path: at, message: 'must be an object: all, any, not, or a condition' });
      return;
    }
    const keys = Object.keys(node);
    const group = GROUP_KEYS.find((key) => Object.hasOwn(node, key));
    if (group !== undefined) {
      if (keys.length !== 1) {
        problems.push({ path: at, message: `a "${group}" group must have no other property` });
        return;
      }
      if (depth >= FILTER_LIMITS.depth) {
        // Not descended into: the deeper it goes, the less its problems matter.
        problems.push({
          path: at,
          message: `nests groups deeper than ${FILTER_LIMITS.depth} levels`,
        });
        return;
      }
      if (group === 'not') {
        visit(node.not, `${at}/not`, depth + 1);
        return;
      }
      const list = node[group];
      if (!Array.isArray(list) || list.length === 0) {
        problems.push({ path: `${at}/${group}`, message: 'must be a non-empty list' });
        return;
      }
      list.forEach((child, index) => {
        visit(child, `${at}/${group}/${index}`, depth + 1);
      });
      return;
    }
    const extra = keys.find((key) => !CONDITION_KEYS.has(key));
    if (extra !== undefined) {
      problems.push({ path: at, message: `must NOT have property "${extra}"` });
      return;
    }
    conditions += 1;
    const path = pathProblem(node.path);
    if (path !== undefined) problems.push({ path: `${at}/path`, message: path });
    if (typeof node.op !== 'string' || !OPERATORS.has(node.op)) {
      problems.push({ path: `${at}/op`, message: `must be one of ${FILTER_OPERATORS.join(', ')}` });
      return;
    }
    const value = valueProblem(node.op as FilterOperator, node.value, Object.hasOwn(node, 'value'));
    if (value !== undefined) problems.push({ path: `${at}/value`, message: value });
  };
  visit(filter, pointer, 0);
  if (conditions > FILTER_LIMITS.conditions) {
    problems.push({
      path: pointer,
      message: `has ${conditions} conditions, more than ${FILTER_LIMITS.conditions}`,
    });
  }
  return problems;
};

type Test = (value: unknown) => boolean;

/**
 * Whether some value at `segments[index…]` below `value` passes `test`. An array is looked
 * through (any element), one level at a time: an array inside an array is not, which keeps the
 * work bounded by the payload's size and the recursion by the path's length. A missing property,
 * `null`, or a value that is not an object where the path goes on, is absent.
 */
const some = (value: unknown, segments: readonly string[], index: number, test: Test): boolean => {
  if (Array.isArray(value)) {
    for (const element of value) {
      if (!Array.isArray(element) && reach(element, segments, index, test)) return true;
    }
    return false;
  }
  return reach(value, segments, index, test);
};

const reach = (value: unknown, segments: readonly string[], index: number, test: Test): boolean => {
  if (value === null || value === undefined) return false;
  const segment = segments[index];
  if (segment === undefined) return test(value);
  if (!isRecord(value) || !Object.hasOwn(value, segment)) return false;
  return some(value[segment], segments, index + 1, test);
};

const testOf = (condition: FilterCondition): Test => {
  const { value } = condition;
  switch (condition.op) {
    case 'exists':
      return () => true;
    case 'eq':
    case 'ne':
      return (found) => found === value;
    case 'in': {
      const values = new Set<unknown>(value as FilterScalar[]);
      return (found) => values.has(found);
    }
    case 'startsWith':
      return (found) => typeof found === 'string' && found.startsWith(value as string);
    case 'endsWith':
      return (found) => typeof found === 'string' && found.endsWith(value as string);
    case 'gt':
      return (found) => typeof found === 'number' && found > (value as number);
    case 'lt':
      return (found) => typeof found === 'number' && found < (value as number);
  }
};

type Evaluate = (input: FilterInput) => boolean;

const compileNode = (node: FilterNode, roots: Set<FilterRoot>): Evaluate => {
  if ('all' in node) {
    const children = node.all.map((child) => compileNode(child, roots));
    return (input) => children.every((child) => child(input));
  }
  if ('any' in node) {
    const children = node.any.map((child) => compileNode(child, roots));
    return (input) => children.some((child) => child(input));
  }
  if ('not' in node) {
    const child = compileNode(node.not, roots);
    return (input) => !child(input);
  }
  const [root, ...segments] = node.path.split('.') as [FilterRoot, ...string[]];
  roots.add(root);
  const test = testOf(node);
  const matches: Evaluate = (input) => some(input[root], segments, 0, test);
  // `ne` is `not eq`: true when the path is absent, and when no value there equals.
  return node.op === 'ne' ? (input) => !matches(input) : matches;
};

/**
 * Compiles a filter once (cold start) into a predicate: true when the input is inside it. Throws
 * ConfigError `CONFIG_INVALID` listing every problem `checkFilter` finds, so a caller that skipped
 * the config loader still cannot run an unbounded filter.
 */
export const compileFilter = (filter: FilterNode, pointer = '/filter'): CompiledFilter => {
  const problems = checkFilter(filter, pointer);
  if (problems.length > 0) {
    throw new ConfigError(
      `Invalid filter: ${problems.map(({ path, message }) => `${path}: ${message}`).join('; ')}`,
      { details: problems },
    );
  }
  const roots = new Set<FilterRoot>();
  const evaluate = compileNode(filter, roots);
  return Object.assign((input: FilterInput) => evaluate(input), { roots });
};

/** A connection's compiled filter, or undefined when it has none (every change is inside). */
export const connectionFilter = (connection: {
  filter?: FilterNode | undefined;
}): CompiledFilter | undefined =>
  connection.filter === undefined ? undefined : compileFilter(connection.filter);
