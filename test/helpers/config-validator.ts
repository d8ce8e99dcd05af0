import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { buildConfigSchema, CONFIG_AJV_OPTIONS } from '../../lib/config/schema.ts';
import type { SourceType } from '../../lib/config/types.ts';

// Production checks configs with the validator generated at build time for the deployed source
// registry; tests that use other option schemas (the contract schemas, a stricter variant)
// compile theirs here, with the same options, so the ajv compiler stays out of lib/ and the bundle.
const compiled = new WeakMap<object, ValidateFunction>();

/** The config schema's validator for `sourceOptionSchemas`, compiled once per registry object. */
export const compileConfigValidator = (
  sourceOptionSchemas: Record<SourceType, object>,
): ValidateFunction => {
  let validate = compiled.get(sourceOptionSchemas);
  if (validate === undefined) {
    const ajv = new Ajv(CONFIG_AJV_OPTIONS);
    addFormats(ajv);
    validate = ajv.compile(buildConfigSchema(sourceOptionSchemas));
    compiled.set(sourceOptionSchemas, validate);
  }
  return validate;
};
