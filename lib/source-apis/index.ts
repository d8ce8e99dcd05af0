import { SOURCE_OF_API } from '../config/load.ts';
import type { Connection } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { createAuth0Lister } from './auth0.ts';
import { createClerkLister } from './clerk.ts';
import { createOktaLister } from './okta.ts';
import type { CreateSourceUserLister, SourceApiContext, SourceUserLister } from './types.ts';
import { createWorkosLister } from './workos.ts';

export { SourceApiError } from '../errors.ts';
export { localSourceApiUrl, withLocalSourceApi } from './local-url.ts';
export { SNAPSHOT_EVENT_TYPE, snapshotEventId } from './snapshot.ts';
export type {
  CreateSourceUserLister,
  SourceApiContext,
  SourceUser,
  SourceUserLister,
  SourceUserPage,
} from './types.ts';

const LISTERS = {
  clerk: createClerkLister,
  workos: createWorkosLister,
  auth0: createAuth0Lister,
  okta: createOktaLister,
} as const satisfies Record<keyof typeof SOURCE_OF_API, CreateSourceUserLister>;

/**
 * The lister of a connection's `reconcile.api`. The config loader already refuses an API that
 * does not fit the connection's source; checked again here for connections built in code.
 */
export const createSourceUserLister: CreateSourceUserLister = (
  connection: Connection,
  context: SourceApiContext,
): SourceUserLister => {
  const api = connection.reconcile?.api;
  if (api === undefined) {
    throw new ConfigError(`Connection "${connection.id}" has no reconcile.api to list users from`);
  }
  if (SOURCE_OF_API[api.kind] !== connection.source) {
    throw new ConfigError(
      `Connection "${connection.id}": reconcile.api.kind "${api.kind}" lists users of a ${SOURCE_OF_API[api.kind]} source, not of "${connection.source}"`,
      { details: [{ path: '/reconcile/api/kind', message: 'does not fit the source' }] },
    );
  }
  return LISTERS[api.kind](connection, context);
};
