import { beforeEach, describe, expect, it } from 'vitest';
import type { Connection, WebhookSourceType } from '../../lib/config/types.ts';
import type { Deliver } from '../../lib/delivery/delivery.ts';
import type { HttpFetch } from '../../lib/fetch.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { AUTH0_VALIDATORS, auth0Source } from '../../lib/sources/auth0/index.ts';
import { HMAC_VALIDATORS, hmacSource } from '../../lib/sources/hmac/index.ts';
import { OKTA_VALIDATORS, oktaSource } from '../../lib/sources/okta/index.ts';
import {
  STANDARD_WEBHOOKS_VALIDATORS,
  standardWebhooksSource,
} from '../../lib/sources/standard-webhooks/index.ts';
import type { PreparedSource, SourceContext } from '../../lib/sources/types.ts';
import { WORKOS_VALIDATORS, workosSource } from '../../lib/sources/workos/index.ts';
import { processWebhook } from '../../lib/webhook/process.ts';
import { fakeSecrets, inboundRequest, sourceConnection } from '../helpers/sources.ts';

/**
 * Counts every run of each payload validator (ajv functions keep `errors` on themselves, so a
 * Proxy forwards everything but the call). Each source gets counting copies of its own validators
 * through `prepare`, the way the functions would pass theirs.
 */
const runs = new Map<string, number>();
const counting = <F extends (...args: never[]) => unknown>(name: string, validate: F): F =>
  new Proxy(validate, {
    apply(target, thisArg, args) {
      runs.set(name, (runs.get(name) ?? 0) + 1);
      return Reflect.apply(target, thisArg, args);
    },
  });

/** Each source prepared with counting validators; auth0 and hmac build theirs per connection. */
const PREPARE: Record<WebhookSourceType, (connection: Connection) => PreparedSource> = {
  'standard-webhooks': (connection) =>
    standardWebhooksSource.prepare(connection, {
      event: counting('clerk event', STANDARD_WEBHOOKS_VALIDATORS.event),
      user: counting('clerk user', STANDARD_WEBHOOKS_VALIDATORS.user),
      membership: counting('clerk membership', STANDARD_WEBHOOKS_VALIDATORS.membership),
    }),
  workos: (connection) =>
    workosSource.prepare(connection, {
      event: counting('workos event', WORKOS_VALIDATORS.event),
      user: counting('workos user', WORKOS_VALIDATORS.user),
      membership: counting('workos membership', WORKOS_VALIDATORS.membership),
      group: counting('workos group', WORKOS_VALIDATORS.group),
    }),
  auth0: (connection) =>
    auth0Source.prepare(connection, {
      eventValidator: (types) => counting('auth0 event', AUTH0_VALIDATORS.eventValidator(types)),
    }),
  okta: (connection) =>
    oktaSource.prepare(connection, {
      eventHook: counting('okta hook', OKTA_VALIDATORS.eventHook),
    }),
  hmac: (connection) =>
    hmacSource.prepare(connection, {
      compilePayloadSchema: (schema, connectionId) =>
        counting('hmac payload', HMAC_VALIDATORS.compilePayloadSchema(schema, connectionId)),
    }),
};

const NOW = 1_735_689_600_000;

/** Answers the Okta Users API; the other sources never call out. */
const oktaUsersApi = (async () =>
  new Response(JSON.stringify({ id: '00u1', status: 'ACTIVE', profile: { email: 'a@x.com' } }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  })) satisfies HttpFetch;

const context: SourceContext = {
  secrets: fakeSecrets({ signing: 'unused', 'okta-api': 'token' }),
  fetch: oktaUsersApi,
  now: () => NOW,
};

const queue: Deliver = async (_connection, updates) => ({
  results: updates.map((update) => ({
    status: 'queued' as const,
    eventId: update.change.eventId,
    messageId: `m-${update.change.eventId}`,
  })),
});

interface Case {
  source: WebhookSourceType;
  options: Record<string, unknown>;
  headers: Record<string, string>;
  payload: unknown;
  validators: string[];
  /** Maps the membership events' groups without a CIAM lookup. */
  groups?: { map: Record<string, string> };
}

const CASES: Case[] = [
  {
    source: 'standard-webhooks',
    options: {},
    headers: { 'svix-id': 'msg_1', 'svix-timestamp': '1735689600', 'svix-signature': 'v1,x' },
    payload: { type: 'user.updated', data: { id: 'user_1' } },
    validators: ['clerk event', 'clerk user'],
  },
  {
    source: 'standard-webhooks',
    options: {},
    headers: { 'svix-id': 'msg_2', 'svix-timestamp': '1735689600', 'svix-signature': 'v1,x' },
    payload: {
      type: 'organizationMembership.created',
      data: { organization: { id: 'org_1', name: 'Staff' }, public_user_data: { user_id: 'u1' } },
    },
    validators: ['clerk event', 'clerk membership'],
    groups: { map: { org_1: 'group-staff' } },
  },
  {
    source: 'workos',
    options: {},
    headers: {},
    payload: { id: 'event_1', event: 'dsync.user.updated', data: { id: 'directory_user_1' } },
    validators: ['workos event', 'workos user'],
  },
  {
    source: 'workos',
    options: {},
    headers: {},
    payload: {
      id: 'event_2',
      event: 'dsync.group.user_added',
      data: { user: { id: 'directory_user_1' }, group: { id: 'directory_group_1', name: 'Staff' } },
    },
    validators: ['workos event', 'workos membership'],
    groups: { map: { Staff: 'group-staff' } },
  },
  {
    source: 'auth0',
    options: {},
    headers: {},
    payload: {
      id: 'evt_1',
      specversion: '1.0',
      type: 'user.updated',
      data: { object: { user_id: 'auth0|1' } },
    },
    validators: ['auth0 event'],
  },
  {
    source: 'okta',
    options: { orgUrl: 'https://example.okta.com' },
    headers: {},
    payload: {
      eventType: 'com.okta.event_hook',
      eventId: 'delivery-1',
      data: {
        events: [
          {
            uuid: 'e1',
            eventType: 'user.account.update_profile',
            target: [{ id: '00u1', type: 'User' }],
          },
        ],
      },
    },
    validators: ['okta hook'],
  },
  {
    source: 'hmac',
    options: { payloadSchema: { type: 'object' }, fields: { externalId: 'id', eventId: 'id' } },
    headers: {},
    payload: { id: 'u1' },
    validators: ['hmac payload'],
  },
];

describe('processWebhook with every source', () => {
  beforeEach(() => {
    runs.clear();
  });

  it.each(CASES)('runs each $source schema exactly once per request', async (testCase) => {
    const connection = {
      ...sourceConnection(testCase.source, testCase.source, testCase.options),
      secrets: { signing: [{ name: 'signing' }], apiToken: { name: 'okta-api' } },
      ...(testCase.groups === undefined ? {} : { groups: testCase.groups }),
    };
    const prepared = {
      connection,
      source: PREPARE[testCase.source](connection),
      mapper: compileMapping(connection),
    };
    const request = inboundRequest(`/webhooks/${testCase.source}`, testCase.headers, '{}');
    runs.clear();

    const outcome = await processWebhook(prepared, testCase.payload, request, context, queue);

    expect(outcome).toMatchObject({ statusCode: 202, counts: { queued: 1 } });
    expect(Object.fromEntries(runs)).toEqual(
      Object.fromEntries(testCase.validators.map((name) => [name, 1])),
    );
  });
});
