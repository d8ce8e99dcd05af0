// Lambda entry point: wiring only. The chain lives in lib/queue/handler.ts.
import { createHandler, queueDeps } from '../lib/queue/handler.ts';
import { createRuntime } from '../lib/runtime.ts';

export const handler = createHandler(queueDeps(createRuntime(process.env)));
