// Lambda entry point: wiring only. The run lives in lib/reconcile/handler.ts, its composition in
// lib/runtime/reconcile.ts. Invoked by the EventBridge schedules serverless.yml declares, each with
// the input `{ "connectionId": "<id>" }`.

import { createHandler } from '../lib/reconcile/handler.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { reconcileDeps } from '../lib/runtime/reconcile.ts';

export const handler = createHandler(reconcileDeps(createRuntime(process.env)));
