// Lambda entry point: wiring only. The chain lives in lib/webhook/handler.ts, its composition in
// lib/runtime/webhook.ts.
import { createRuntime } from '../lib/runtime/index.ts';
import { webhookDeps } from '../lib/runtime/webhook.ts';
import { createHandler } from '../lib/webhook/handler.ts';

export const handler = createHandler(webhookDeps(createRuntime(process.env)));
