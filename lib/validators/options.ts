import type { Options } from 'ajv';

// ajv's maxLength counts code points by default (its `unicode` option, deprecated to set), as
// codePointLength does; test/ciam/update-user-fields.test.ts checks the two agree.
export const UPDATE_USER_AJV_OPTIONS: Options = { allErrors: true };
