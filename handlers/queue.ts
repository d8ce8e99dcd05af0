// Lambda entry point: wiring only. The chain lives in lib/queue/handler.ts, its composition in
// lib/runtime/queue.ts.

import { createHandler } from '../lib/queue/handler.ts';
import { createRuntime } from '../lib/runtime/index.ts';
import { queueDeps } from '../lib/runtime/queue.ts';

export const handler = createHandler(queueDeps(createRuntime(process.env)));
