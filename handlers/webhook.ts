// Lambda entry point: wiring only. The chain lives in lib/webhook/handler.ts.
import { createRuntime } from '../lib/runtime.ts';
import { createHandler, webhookDeps } from '../lib/webhook/handler.ts';

export const handler = createHandler(webhookDeps(createRuntime(process.env)));
