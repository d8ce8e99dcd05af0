import { readdirSync, readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as generated from '../../lib/validators/generated.js';
import {
  declaredValidators,
  generateDeclarations,
  generateValidators,
  VALIDATORS_FILE,
} from '../../scripts/build-validators.ts';
import { readJson } from '../helpers/files.ts';

describe('generated validators (npm run build:validators)', () => {
  it('match the schemas: a schema changed without regenerating fails here', () => {
    expect(readFileSync(VALIDATORS_FILE, 'utf8')).toBe(generateValidators());
    expect(readFileSync(VALIDATORS_FILE.replace(/\.js$/, '.d.ts'), 'utf8')).toBe(
      generateDeclarations(),
    );
  });
});

// The generator rewrites schemas and code to save bytes (shared subschemas, error helpers). What
// it must not change: what is accepted, and every error's instancePath, keyword, params and
// message, in order. `schemaPath` may name a shared definition instead; nothing reads it.
describe('generated validators against ajv compiling the declared schemas', () => {
  const eventBodies = readdirSync('events')
    .map((file) => readJson<{ body?: unknown }>(`events/${file}`))
    .flatMap(({ body }) => (typeof body === 'string' ? [JSON.parse(body) as unknown] : []));
  const samples: unknown[] = [
    ...eventBodies,
    readJson('config/local.json'),
    readJson('config/production.json'),
    {
      UserId: 'u-1',
      UserStoreId: 's-1',
      Email: 'ana@example.com',
      UserGroup: ['g'],
      Birthdate: 1706682491339,
      CustomizationAttributes: [{ Name: 'k', Value: 'v', Type: 'STRING' }],
      IndexedAttribute1: 'x',
    },
    { UserStoreId: 's-1', Nickname: 'ana', UserOrg: [] },
    // An Okta user as the Users API answers it (the hooks carry only its id).
    { id: '00u1', status: 'ACTIVE', profile: { login: 'ana@example.com' } },
    // Group membership events: WorkOS `{ user, group }` and a Clerk organization membership.
    {
      user: { id: 'directory_user_1', email: 'ana@example.com' },
      group: { id: 'directory_group_1', name: 'Staff' },
    },
    {
      organization: { id: 'org_1', name: 'Staff' },
      public_user_data: { user_id: 'user_1', identifier: 'ana@example.com' },
      updated_at: 1706682491339,
    },
  ];

  /** Every object and array inside `value`, `value` first. */
  const containers = (value: unknown): (Record<string, unknown> | unknown[])[] =>
    typeof value === 'object' && value !== null
      ? [
          value as Record<string, unknown>,
          ...Object.values(value).flatMap((child: unknown) => containers(child)),
        ]
      : [];

  // Every sub-document of a sample is a candidate input for every validator: a connection's
  // `options` is valid hmacOptions, an event's `data` a user, and so on.
  const corpus = samples.flatMap(containers);

  const DELETE = Symbol('delete');
  const edit = fc.record({
    at: fc.nat(),
    key: fc.nat(),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(DELETE)),
  });
  /** A corpus document with up to three members replaced, deleted or added, anywhere in it. */
  const mutated = fc
    .tuple(fc.constantFrom(...corpus), fc.array(edit, { maxLength: 3 }))
    .map(([base, edits]) => {
      const copy = structuredClone(base) as Record<string, unknown>;
      for (const { at, key, value } of edits) {
        const nodes = containers(copy) as Record<string, unknown>[];
        const node = nodes[at % nodes.length] as Record<string, unknown>;
        const keys = Object.keys(node);
        const name =
          key % (keys.length + 1) === keys.length ? `extra${key}` : keys[key % keys.length];
        if (name === undefined) continue;
        if (value === DELETE) delete node[name];
        else node[name] = value;
      }
      return copy as unknown;
    });
  const input = fc.oneof(
    { weight: 4, arbitrary: mutated },
    { weight: 1, arbitrary: fc.constantFrom(...corpus) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );

  const outcome = (validate: ValidateFunction, data: unknown) => ({
    valid: validate(data),
    errors:
      validate.errors?.map(({ schemaPath: _path, ...rest }: ErrorObject) => rest) ??
      validate.errors,
  });

  it.each(declaredValidators())('$name', ({ name, options, formats, schema }) => {
    const ajv = new Ajv(options);
    if (formats) addFormats(ajv);
    const expected = ajv.compile(schema);
    const actual = (generated as Record<string, ValidateFunction>)[name];
    expect(actual).toBeTypeOf('function');
    let accepted = 0;
    for (const data of corpus) {
      const want = outcome(expected, data);
      expect(outcome(actual as ValidateFunction, data)).toStrictEqual(want);
      if (want.valid) accepted++;
    }
    fc.assert(
      fc.property(input, (data) => {
        const want = outcome(expected, data);
        expect(outcome(actual as ValidateFunction, data)).toStrictEqual(want);
        if (want.valid) accepted++;
      }),
      { numRuns: 400 },
    );
    // The inputs reach both sides of every validator, not only rejections.
    expect(accepted).toBeGreaterThan(0);
  });
});
