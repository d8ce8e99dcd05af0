import { Ajv, type ErrorObject } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUTH0_DEFAULT_EVENT_TYPES,
  AUTH0_TYPE_PREFIX,
  auth0EnvelopeSchema,
  auth0EventValidator,
  auth0MappedEventSchema,
} from '../../lib/sources/auth0/schema.ts';
import { OWN_PROPERTIES_AJV_OPTIONS } from '../../lib/sources/shared/validation.ts';

/**
 * The specification: the single if/then schema the connection's event validator used to be
 * compiled from at cold start. The validator now combines two generated validators and must
 * accept, reject and report exactly as this schema does under ajv.
 */
const referenceSchema = (mappedTypes: readonly string[]) => ({
  ...auth0EnvelopeSchema,
  if: {
    type: 'object',
    required: ['type'],
    properties: {
      type: { enum: mappedTypes.flatMap((type) => [type, `${AUTH0_TYPE_PREFIX}${type}`]) },
      a0purpose: { not: { const: 'test' } },
    },
  },
  // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword.
  then: auth0MappedEventSchema,
});

const compileReference = (mappedTypes: readonly string[]) =>
  new Ajv(OWN_PROPERTIES_AJV_OPTIONS).compile(referenceSchema(mappedTypes));

/** Errors as an order-free multiset: both sides report the same errors, not always in one order. */
const errorKeys = (errors: readonly ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${e.message}`).sort();

const CUSTOM_TYPES = ['user.deleted', 'user.updated'];

const anyType = fc.oneof(
  fc.constantFrom(
    'user.created',
    'user.updated',
    'user.deleted',
    'com.auth0.user.created',
    'com.auth0.user.updated',
    'com.auth0.user.deleted',
    'organization.created',
    '',
  ),
  fc.string(),
  fc.integer(),
  fc.constant(null),
);

const anyUser = fc.oneof(
  fc.record(
    {
      user_id: fc.oneof(fc.constant('auth0|1'), fc.constant(''), fc.integer()),
      email: fc.oneof(fc.constant('a@example.com'), fc.constant(null), fc.integer()),
      user_metadata: fc.oneof(fc.constant({}), fc.constant('x'), fc.constant(null)),
    },
    { requiredKeys: [] },
  ),
  fc.constant('not a user'),
  fc.constant(null),
);

const anyEvent = fc.oneof(
  fc.record(
    {
      id: fc.oneof(fc.constant('evt_1'), fc.constant(''), fc.integer()),
      type: anyType,
      specversion: fc.oneof(fc.constant('1.0'), fc.integer()),
      spec_version: fc.constant('1.0'),
      a0purpose: fc.oneof(fc.constant('test'), fc.constant('live'), fc.integer()),
      data: fc.oneof(
        fc.record({ object: anyUser }, { requiredKeys: [] }),
        fc.constant([]),
        fc.constant('x'),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom(null, [], 'event', 42),
);

describe('auth0EventValidator', () => {
  it.each([
    ['the default event types', AUTH0_DEFAULT_EVENT_TYPES],
    ['custom event types', CUSTOM_TYPES],
  ])('accepts, rejects and reports as the if/then event schema does, for %s', (_name, types) => {
    const validate = auth0EventValidator(types);
    const reference = compileReference(types);
    fc.assert(
      fc.property(anyEvent, (event) => {
        expect(validate(event)).toBe(reference(event));
        expect(errorKeys(validate.errors)).toEqual(errorKeys(reference.errors));
      }),
      { numRuns: 2000 },
    );
  });

  it('requires the user of a mapped event in either spelling, but not of a test or unmapped one', () => {
    const validate = auth0EventValidator(['user.deleted']);
    const envelope = { id: 'evt_1', specversion: '1.0' };
    expect(validate({ ...envelope, type: 'user.deleted' })).toBe(false);
    expect(errorKeys(validate.errors)).toEqual([
      ' if must match "then" schema',
      " required must have required property 'data'",
    ]);
    expect(validate({ ...envelope, type: 'com.auth0.user.deleted', data: {} })).toBe(false);
    expect(validate({ ...envelope, type: 'user.deleted', a0purpose: 'test' })).toBe(true);
    expect(validate({ ...envelope, type: 'user.updated' })).toBe(true);
    expect(validate.errors).toBeNull();
  });

  it('does not take the type or the user from the prototype', () => {
    const validate = auth0EventValidator(['user.updated']);
    const inherited = JSON.parse(
      '{"id":"e","specversion":"1.0","__proto__":{"type":"user.updated"}}',
    );
    expect(validate(inherited)).toBe(false);
    expect(errorKeys(validate.errors)).toEqual([" required must have required property 'type'"]);
  });
});
