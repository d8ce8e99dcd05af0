import { createRequire } from 'node:module';

/**
 * Node's `require`, made by `createRequire`. esbuild leaves calls to it alone (it is a local
 * function, not the global `require`), so what it loads is resolved when the call runs: from this
 * repository's node_modules locally, from NODE_PATH in Lambda.
 */
const requireAtRunTime = createRequire(import.meta.url);

/**
 * A module loaded on the first call of the returned function, then kept: work a cold start skips
 * until something needs it.
 *
 * `bundled`, when given, is a caller-written `() => require('<literal>')`. Inside the Lambda bundle
 * (which has a `require`), esbuild resolves that literal call at build time: the module is bundled
 * but evaluated only when the call runs (an ESM `import` would be hoisted and run at cold start; an
 * `await import()` would make the callers async). Under tsx and vitest the sources are ESM without
 * a `require`, and `name` is loaded from node_modules instead. Without `bundled`, the module is
 * never bundled and always comes from node_modules or NODE_PATH (the AWS SDK, which Lambda ships).
 */
export const requireOnFirstUse = <T>(name: string, bundled?: () => unknown): (() => T) => {
  let loaded: T | undefined;
  return () => {
    loaded ??= (
      bundled !== undefined && typeof require === 'function' ? bundled() : requireAtRunTime(name)
    ) as T;
    return loaded;
  };
};
