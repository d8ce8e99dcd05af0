import type { UserResolver } from '../ciam/resolve.ts';

/**
 * The resolver a queued change is applied with. The producer already found the change's CIAM user
 * (its FIFO group is named after it) and wrote it into the envelope, so that id is used as is and
 * CIAM is not asked again. A message queued before the producer resolved users carries none and
 * is looked up by `resolver`, as it always was. When CIAM says the recorded user no longer exists
 * (deleted, perhaps re-created), apply forgets it: the recorded id is dropped with the cached
 * lookup, and the lookup apply then redoes goes to CIAM.
 */
export const envelopeResolver = (
  resolver: UserResolver,
  recordedUserId: string | undefined,
): UserResolver => {
  let recorded = recordedUserId;
  return {
    resolve: (connection, change, options) =>
      recorded === undefined
        ? resolver.resolve(connection, change, options)
        : Promise.resolve(recorded),
    forget: (connection, change) => {
      recorded = undefined;
      resolver.forget(connection, change);
    },
  };
};
