// Lambda entry point: wiring only. The chain lives in lib/scim/handler.ts, its composition in
// lib/runtime/scim.ts.
import { createRuntime } from '../lib/runtime/index.ts';
import { scimDeps } from '../lib/runtime/scim.ts';
import { createHandler } from '../lib/scim/handler.ts';

export const handler = createHandler(scimDeps(createRuntime(process.env)));
