import { createRequire } from 'node:module';
import type jsonataModule from 'jsonata';
import type * as phoneModule from './ciam/phone-numbers.ts';

/**
 * Bundled dependencies loaded on first use instead of at cold start (issue 9): JSONata is needed
 * only by connections with real expressions (not bare paths, see lib/expression.ts), and
 * libphonenumber-js (its metadata is the bundle's largest single piece) only by the first phone
 * number or a configured `defaultPhoneRegion`. Each loader calls `require` with a literal name. In the Lambda bundle, esbuild resolves such a call at build
 * time: the module is bundled, but evaluated only when the call runs (an ESM `import` would be
 * hoisted and run at cold start; an `await import()` would make compiling an expression async,
 * and bad expressions must still fail the cold start). Under tsx and vitest the sources are ESM
 * without a `require`, and `createRequire` loads the same package from node_modules.
 */
const fromNodeModules = createRequire(import.meta.url);

let jsonata: typeof jsonataModule | undefined;

export const loadJsonata = (): typeof jsonataModule => {
  jsonata ??= (
    typeof require === 'function' ? require('jsonata') : fromNodeModules('jsonata')
  ) as typeof jsonataModule;
  return jsonata;
};

let phoneNumbers: typeof phoneModule | undefined;

export const loadPhoneNumbers = (): typeof phoneModule => {
  // Bundled: our ESM re-export, so esbuild tree-shakes libphonenumber-js as for an `import`
  // (a `require` of the package itself would pull in its whole CommonJS build). Under tsx and
  // vitest, which cannot `require` TypeScript, the same version's CommonJS build.
  phoneNumbers ??= (
    typeof require === 'function'
      ? require('./ciam/phone-numbers.ts')
      : fromNodeModules('libphonenumber-js/min')
  ) as typeof phoneModule;
  return phoneNumbers;
};
