import type { MemberMap } from './types.ts';

/**
 * UpdateUser's CustomizationAttributes may replace the user's whole list (the API page does not
 * say; the emulator does), so every write sends the current list with the changes laid over it:
 * nothing the user already had is dropped.
 */
export const mergeCustomAttributes = (
  current: readonly MemberMap[] | undefined,
  updates: readonly MemberMap[],
): MemberMap[] => {
  const merged = new Map<string, MemberMap>();
  for (const item of current ?? []) merged.set(item.Name, { ...item });
  for (const item of updates) merged.set(item.Name, { ...item });
  return [...merged.values()];
};
