import type { Connection } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import { assertPayload, type PayloadValidator, readOptions } from '../shared/validation.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import { authenticateAuth0 } from './authenticate.ts';
import {
  AUTH0_DEFAULT_EVENT_TYPES,
  type Auth0Event,
  auth0EventValidator,
  auth0OptionsSchema,
  validateAuth0Options,
} from './schema.ts';
import { auth0ToChanges, normaliseAuth0Type } from './to-changes.ts';

export type { Auth0Options } from './schema.ts';
export { auth0OptionsSchema };

/** The payload validator a connection runs, built from the event types it maps. */
export interface Auth0Validators {
  eventValidator: (mappedTypes: readonly string[]) => PayloadValidator<Auth0Event>;
}

export const AUTH0_VALIDATORS: Auth0Validators = { eventValidator: auth0EventValidator };

const prepareAuth0 = (
  connection: Connection,
  { eventValidator } = AUTH0_VALIDATORS,
): PreparedSource<Auth0Event> => {
  const options = readOptions(validateAuth0Options, connection.options ?? {}, connection.id);
  const signing = connection.secrets.signing;
  if (signing.length < 1 || signing.length > 2) {
    throw new ConfigError(`Connection "${connection.id}" needs one or two signing secrets`);
  }
  const eventTypes = new Set(
    (options.eventTypes ?? AUTH0_DEFAULT_EVENT_TYPES).map(normaliseAuth0Type),
  );
  const validateEvent = eventValidator([...eventTypes]);
  const auth = {
    mode: options.auth ?? 'bearer',
    headerName: (options.headerName ?? 'authorization').toLowerCase(),
    signing,
  };
  const mapping = { connectionId: connection.id, eventTypes };

  return {
    authenticate: (request, context) => authenticateAuth0(auth, request, context.secrets),
    // One schema, conditional on the type; it also caps the event id's length.
    parse: (payload) => {
      assertPayload(validateEvent, payload);
      return payload;
    },
    toChanges: async (event, _request, context) => auth0ToChanges(mapping, event, context.now),
  };
};

/** Auth0 Event Streams, webhook destination (identity-sources.md §4.1). */
export const auth0Source: SourceDefinition<Auth0Event, Auth0Validators> = {
  type: 'auth0',
  optionsSchema: auth0OptionsSchema,
  prepare: prepareAuth0,
};
