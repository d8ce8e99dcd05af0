import { ConfigError } from '../errors.ts';
import type { Connection } from './types.ts';

/**
 * Cold-start work over the configured connections, for each function its own: `prepare` returns
 * what the function keeps for a connection, `undefined` to skip one it does not serve, or throws to
 * refuse it. Every refusal is collected, so a bad deployment fails its first invocation listing
 * all of them, instead of the first matching request failing quietly.
 */
export const prepareEach = <T>(
  connections: readonly Connection[],
  prepare: (connection: Connection) => T | undefined,
): ReadonlyMap<string, T> => {
  const prepared = new Map<string, T>();
  const problems: string[] = [];
  for (const connection of connections) {
    try {
      const value = prepare(connection);
      if (value !== undefined) prepared.set(connection.id, value);
    } catch (error) {
      problems.push(`${connection.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid connections:\n- ${problems.join('\n- ')}`, {
      details: problems,
    });
  }
  return prepared;
};
