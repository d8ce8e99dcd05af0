import type { Connection } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import { assertPayload, type PayloadValidator, readOptions } from '../shared/validation.ts';
import type { PreparedSource, SourceDefinition } from '../types.ts';
import { answerOktaChallenge, authenticateOkta } from './authenticate.ts';
import {
  type OktaEventHook,
  oktaOptionsSchema,
  validateOktaEventHook,
  validateOktaOptions,
} from './schema.ts';
import { oktaToChanges, triageOktaEvents } from './to-changes.ts';
import { fetchOktaUsers } from './users-api.ts';

export type { OktaOptions } from './schema.ts';
export { oktaOptionsSchema };

const DEFAULT_EVENT_TYPES = [
  'user.account.update_profile',
  'user.lifecycle.create',
  'user.lifecycle.activate',
  'user.lifecycle.reactivate',
  'user.lifecycle.unsuspend',
  'group.user_membership.add',
  'group.user_membership.remove',
];

const DEFAULT_USERS_API_TIMEOUT_MS = 2000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** The org origin without a trailing slash; plain http only for a local fake. */
const parseOrgUrl = (value: string, connectionId: string): string => {
  const invalid = (why: string) =>
    new ConfigError(`Connection "${connectionId}": options.orgUrl ${why}`, {
      details: [{ path: '/options/orgUrl', message: why }],
    });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('must be an absolute URL');
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
  ) {
    throw invalid('must use https (http only for 127.0.0.1 or localhost)');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid('must not contain credentials, a query or a fragment');
  }
  if (url.pathname !== '/') throw invalid('must be the org origin, without a path');
  return url.origin;
};

/** The payload validator a connection runs: the event hook with its events. */
export interface OktaValidators {
  eventHook: PayloadValidator<OktaEventHook>;
}

export const OKTA_VALIDATORS: OktaValidators = { eventHook: validateOktaEventHook };

const prepareOkta = (
  connection: Connection,
  { eventHook: validateEventHook } = OKTA_VALIDATORS,
): PreparedSource<OktaEventHook> => {
  const options = readOptions(validateOktaOptions, connection.options ?? {}, connection.id);
  const orgUrl = parseOrgUrl(options.orgUrl, connection.id);
  const { signing, apiToken } = connection.secrets;
  if (signing.length < 1 || signing.length > 2) {
    throw new ConfigError(`Connection "${connection.id}" needs one or two signing secrets`);
  }
  if (apiToken === undefined) {
    throw new ConfigError(
      `Connection "${connection.id}" needs secrets.apiToken to read profiles from the Okta Users API`,
    );
  }
  const auth = {
    headerName: (options.headerName ?? 'authorization').toLowerCase(),
    verification: options.verification ?? 'if-present',
    signing,
  };
  const mapping = {
    connectionId: connection.id,
    eventTypes: new Set(options.eventTypes ?? DEFAULT_EVENT_TYPES),
  };
  const timeoutMs = options.usersApiTimeoutMs ?? DEFAULT_USERS_API_TIMEOUT_MS;

  return {
    handshake: (request, context) => answerOktaChallenge(auth, request, context.secrets),
    authenticate: (request, context) => authenticateOkta(auth, request, context.secrets),
    // The schema also caps eventId, each uuid and each User target id.
    parse: (payload) => {
      assertPayload(validateEventHook, payload);
      return payload;
    },
    toChanges: async (hook, _request, context) => {
      const triage = triageOktaEvents(mapping, hook, context.now);
      if (triage.userIds.length === 0) return oktaToChanges(mapping, triage, new Map());
      const users = await fetchOktaUsers(triage.userIds, {
        orgUrl,
        apiToken: await context.secrets.getString(apiToken),
        timeoutMs,
        fetch: context.fetch,
        ...(context.signal === undefined ? {} : { signal: context.signal }),
      });
      return oktaToChanges(mapping, triage, users);
    },
  };
};

/** Okta Event Hooks: one-time GET challenge, static header secret, thin events (§2). */
export const oktaSource: SourceDefinition<OktaEventHook, OktaValidators> = {
  type: 'okta',
  optionsSchema: oktaOptionsSchema,
  prepare: prepareOkta,
};
