import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { compilePayloadSchema } from '../../lib/sources/hmac/schema.ts';
import { toValidationDetails } from '../../lib/sources/shared/validation.ts';

/** A value no message may repeat: personal data must not reach a 400 body or the logs. */
const SECRET = 'Zq9-jane.doe-PRIVATE';

const compile = (schema: Record<string, unknown>) => compilePayloadSchema(schema, 'crm');

const configError = (schema: Record<string, unknown>): { message: string; details: unknown } => {
  try {
    compile(schema);
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    return error as { message: string; details: unknown };
  }
  throw new Error('expected a ConfigError');
};

/** What the ajv compiler this replaces reported (ajv-formats, allErrors), for comparison. */
const ajvDetails = (schema: Record<string, unknown>, payload: unknown) => {
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true, logger: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  validate(payload);
  return toValidationDetails(validate.errors);
};

const userSchema = {
  type: 'object',
  required: ['id', 'user'],
  properties: {
    id: { type: 'string', minLength: 1 },
    user: {
      type: 'object',
      required: ['externalId'],
      additionalProperties: false,
      properties: {
        externalId: { type: ['string', 'integer'] },
        email: { type: 'string', format: 'email' },
        born: { type: 'string', format: 'date' },
        site: { type: 'string', format: 'uri' },
        ref: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'date-time' },
        tier: { enum: ['gold', 'silver'] },
        code: { type: 'string', pattern: '^[A-Z]{3}$', maxLength: 3 },
        age: { type: 'integer', minimum: 0, maximum: 150 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, uniqueItems: true },
      },
    },
  },
};

describe('hmac payloadSchema (@cfworker/json-schema)', () => {
  describe('at cold start', () => {
    it.each([
      ['a misspelt keyword', { requried: ['id'] }, '/options/payloadSchema/requried'],
      [
        'a misspelt nested keyword',
        { properties: { user: { type: 'object', propertes: {} } } },
        '/options/payloadSchema/properties/user/propertes',
      ],
      ['an unknown type', { type: 'objekt' }, '/options/payloadSchema/type'],
      ['a format cfworker lacks', { format: 'int64' }, '/options/payloadSchema/format'],
      ['an unknown format', { format: 'emial' }, '/options/payloadSchema/format'],
      ['an invalid pattern', { pattern: '([a-z' }, '/options/payloadSchema/pattern'],
      ['a negative maxLength', { maxLength: -1 }, '/options/payloadSchema/maxLength'],
      ['required as a string', { required: 'id' }, '/options/payloadSchema/required'],
      ['a non-schema property', { properties: { a: 5 } }, '/options/payloadSchema/properties/a'],
      ['an ajv-only keyword', { nullable: true }, '/options/payloadSchema/nullable'],
      ['a $ref that does not resolve', { $ref: '#/$defs/nope' }, '/options/payloadSchema/$ref'],
      [
        'a remote $ref',
        { properties: { a: { $ref: 'https://example.com/s.json' } } },
        '/options/payloadSchema/properties/a/$ref',
      ],
    ])('refuses %s, naming the connection and where', (_name, schema, path) => {
      const error = configError(schema);
      expect(error.message).toBe('Connection "crm" has an invalid hmac payloadSchema');
      expect(error.details).toEqual([{ path, message: expect.any(String) }]);
    });

    it('accepts annotations, definitions and the keywords it enforces', () => {
      expect(() =>
        compile({
          $schema: 'http://json-schema.org/draft-07/schema#',
          title: 'User event',
          description: 'x',
          definitions: { id: { type: 'string', minLength: 1 } },
          type: 'object',
          properties: { id: { $ref: '#/definitions/id' }, n: { default: 1, examples: [1] } },
          dependencies: { a: ['b'] },
          if: { required: ['a'] },
          // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
          then: { required: ['b'] },
        }),
      ).not.toThrow();
    });

    it('leaves the configured schema object as it was', () => {
      const schema = { $defs: { s: { type: 'string' } }, properties: { a: { $ref: '#/$defs/s' } } };
      const before = structuredClone(schema);
      compile(schema);
      expect(schema).toStrictEqual(before);
      expect(Object.getOwnPropertyNames(schema.properties.a)).toEqual(['$ref']);
    });
  });

  describe('per payload', () => {
    const check = compile(userSchema);

    it('accepts a payload the schema allows', () => {
      expect(
        check({
          id: 'e1',
          user: {
            externalId: 7,
            email: 'jane@example.com',
            born: '1990-02-28',
            site: 'https://example.com/a',
            ref: '6fa459ea-ee8a-3ca4-894e-db77e160355e',
            at: '2025-01-01T00:00:00Z',
            tier: 'gold',
            code: 'ABC',
            age: 30,
            tags: ['a'],
          },
        }),
      ).toEqual([]);
    });

    it('points a missing property at itself, nested or not', () => {
      expect(check({ user: {} })).toEqual([
        { path: '/id', message: "must have required property 'id'" },
        { path: '/user/externalId', message: "must have required property 'externalId'" },
      ]);
    });

    it('reports nested failures as JSON Pointers, in ajv wording', () => {
      const payload = {
        id: '',
        user: {
          externalId: true,
          email: 'not-an-email',
          born: '1990-02-30',
          site: 'no scheme',
          ref: 'not-a-uuid',
          at: 'yesterday',
          tier: 'bronze',
          code: 'abcd',
          age: 151,
          tags: ['a', 'a', 'b'],
        },
      };
      const details = check(payload);
      expect(details).toEqual(
        expect.arrayContaining([
          { path: '/id', message: 'must NOT have fewer than 1 characters' },
          { path: '/user/externalId', message: 'must be string,integer' },
          { path: '/user/email', message: 'must match format "email"' },
          { path: '/user/born', message: 'must match format "date"' },
          { path: '/user/site', message: 'must match format "uri"' },
          { path: '/user/ref', message: 'must match format "uuid"' },
          { path: '/user/at', message: 'must match format "date-time"' },
          { path: '/user/tier', message: 'must be equal to one of the allowed values' },
          { path: '/user/code', message: 'must match pattern "^[A-Z]{3}$"' },
          { path: '/user/code', message: 'must NOT have more than 3 characters' },
          { path: '/user/age', message: 'must be <= 150' },
          { path: '/user/tags', message: 'must NOT have more than 2 items' },
          { path: '/user/tags', message: 'must NOT have duplicate items' },
        ]),
      );
      // The same details the ajv compiler gave (ajv adds indices to uniqueItems' message).
      const ajv = ajvDetails(userSchema, payload).map((detail) =>
        detail.message.startsWith('must NOT have duplicate items')
          ? { ...detail, message: 'must NOT have duplicate items' }
          : detail,
      );
      expect(new Set(details.map((d) => JSON.stringify(d)))).toEqual(
        new Set(ajv.map((d) => JSON.stringify(d))),
      );
    });

    it('escapes property names in paths as JSON Pointers', () => {
      const odd = compile({ properties: { 'a/b~c d%': { type: 'string' } } });
      expect(odd({ 'a/b~c d%': 1 })).toEqual([{ path: '/a~1b~0c d%', message: 'must be string' }]);
    });

    it('reports an additional property at its object, without its name', () => {
      expect(check({ id: 'e', user: { externalId: 'u', [SECRET]: 1, other: 2 } })).toEqual([
        { path: '/user', message: 'must NOT have additional properties' },
      ]);
    });

    it('refuses numbers JSON cannot carry, wherever they are', () => {
      const payload = JSON.parse('{"id":"e","user":{"externalId":1e400},"x":[-1e400]}');
      expect(check(payload)).toEqual([
        { path: '/user/externalId', message: 'must be a finite number' },
        { path: '/x/0', message: 'must be a finite number' },
        // cfworker's own check of an integer in a type list refuses Infinity too.
        { path: '/user/externalId', message: 'must be string,integer' },
      ]);
    });

    it('refuses, rather than throws on, a key with a lone surrogate', () => {
      const payload = JSON.parse('{"id":"e","user":{"externalId":"u","\\ud800":1}}');
      expect(check(payload)).toEqual([
        { path: '', message: 'could not be checked (nested too deeply, or malformed text)' },
      ]);
    });

    it('refuses, rather than overflows on, a deeply nested body', () => {
      const deep = JSON.parse(
        `{"id":"e","user":{"externalId":"u"},"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
      );
      expect(check(deep)).toEqual([]);
      const recursive = compile({ items: { $ref: '#' } });
      expect(recursive(JSON.parse(`${'['.repeat(50_000)}${']'.repeat(50_000)}`))).toEqual([
        { path: '', message: 'could not be checked (nested too deeply, or malformed text)' },
      ]);
    });

    it('applies $ref and its siblings, and if/then/else', () => {
      const refs = compile({
        $defs: { short: { type: 'string', maxLength: 2 } },
        properties: { a: { $ref: '#/$defs/short', minLength: 2 } },
        if: { required: ['a'] },
        // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
        then: { required: ['b'] },
        else: { required: ['c'] },
      });
      expect(refs({ a: 'abc', b: 1 })).toEqual([
        { path: '/a', message: 'must NOT have more than 2 characters' },
      ]);
      expect(refs({ a: 'x', b: 1 })).toEqual([
        { path: '/a', message: 'must NOT have fewer than 2 characters' },
      ]);
      expect(refs({})).toEqual([
        { path: '', message: 'must match "else" schema' },
        { path: '/c', message: "must have required property 'c'" },
      ]);
    });

    it('never quotes the payload in a message', () => {
      const quoting = compile({
        type: 'object',
        properties: {
          n: { type: 'number', maximum: 10, multipleOf: 5 },
          m: { type: 'number', exclusiveMinimum: 1e15 },
          s: { type: 'string', format: 'email', pattern: '^x$', maxLength: 3 },
          c: { const: 'fixed' },
          e: { enum: ['a'] },
          t: { type: 'integer' },
          o: { type: 'object', propertyNames: { maxLength: 2 }, maxProperties: 1 },
          d: { type: 'object', dependentRequired: { a: ['b'] } },
          x: { not: { type: 'string' } },
          y: { oneOf: [{ type: 'string' }, { minLength: 1 }] },
          z: { anyOf: [{ type: 'integer' }, { type: 'boolean' }] },
          arr: { type: 'array', contains: { const: 1 }, uniqueItems: true },
        },
      });
      const number = 987654321123;
      const details = quoting({
        n: number,
        m: number,
        s: SECRET,
        c: SECRET,
        e: SECRET,
        t: SECRET,
        o: { [SECRET]: 1, [`${SECRET}2`]: 2 },
        d: { a: SECRET },
        x: SECRET,
        y: SECRET,
        z: SECRET,
        arr: [SECRET, SECRET],
      });
      expect(details.length).toBeGreaterThanOrEqual(14);
      const messages = JSON.stringify(details.map((detail) => detail.message));
      expect(messages).not.toContain(SECRET);
      expect(messages).not.toContain(String(number));
      // Paths name the schema's properties; a propertyNames failure names the offending key,
      // as ajv's did, which is why the object itself is reported without it.
      expect(details).toContainEqual({ path: '/o', message: 'property name must be valid' });
      expect(details).toContainEqual({
        path: '/d',
        message: 'must have property b when property a is present',
      });
    });
  });
});
