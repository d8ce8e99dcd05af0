// Lambda entry point: wiring only. The chain lives in lib/scim/handler.ts.
import { createRuntime } from '../lib/runtime.ts';
import { createHandler, scimDeps } from '../lib/scim/handler.ts';

export const handler = createHandler(scimDeps(createRuntime(process.env)));
