/** A JSON object: not null, not an array. What every reader of untrusted JSON checks first. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
