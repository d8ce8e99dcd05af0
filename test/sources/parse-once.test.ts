import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebhookSourceType } from '../../lib/config/types.ts';
import type { Deliver } from '../../lib/delivery/delivery.ts';
import { compileMapping } from '../../lib/mapping/index.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import type { SourceContext } from '../../lib/sources/types.ts';
import { processWebhook } from '../../lib/webhook/process.ts';
import { fakeSecrets, inboundRequest, sourceConnection } from '../helpers/sources.ts';

/**
 * Counts every run of each payload validator (ajv functions keep `errors` on themselves, so a
 * Proxy forwards everything but the call). The schema modules are replaced with counting copies.
 */
const { runs, counting } = vi.hoisted(() => {
  const runs = new Map<string, number>();
  const counting = <F extends (...args: never[]) => unknown>(name: string, validate: F): F =>
    new Proxy(validate, {
      apply(target, thisArg, args) {
        runs.set(name, (runs.get(name) ?? 0) + 1);
        return Reflect.apply(target, thisArg, args);
      },
    });
  return { runs, counting };
});

vi.mock('../../lib/sources/standard-webhooks/schema.ts', async (importOriginal) => {
  const original =
    await importOriginal<typeof import('../../lib/sources/standard-webhooks/schema.ts')>();
  return {
    ...original,
    validateClerkEvent: counting('clerk event', original.validateClerkEvent),
    validateClerkUser: counting('clerk user', original.validateClerkUser),
  };
});

vi.mock('../../lib/sources/workos/schema.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/sources/workos/schema.ts')>();
  return {
    ...original,
    validateWorkosEvent: counting('workos event', original.validateWorkosEvent),
    validateWorkosUser: counting('workos user', original.validateWorkosUser),
  };
});

vi.mock('../../lib/sources/auth0/schema.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/sources/auth0/schema.ts')>();
  return {
    ...original,
    auth0EventValidator: (types: readonly string[]) =>
      counting('auth0 event', original.auth0EventValidator(types)),
  };
});

vi.mock('../../lib/sources/okta/schema.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/sources/okta/schema.ts')>();
  return {
    ...original,
    validateOktaEventHook: counting('okta hook', original.validateOktaEventHook),
  };
});

vi.mock('../../lib/sources/hmac/schema.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/sources/hmac/schema.ts')>();
  return {
    ...original,
    compilePayloadSchema: (schema: Record<string, unknown>, connectionId: string) =>
      counting('hmac payload', original.compilePayloadSchema(schema, connectionId)),
  };
});

const NOW = 1_735_689_600_000;

/** Answers the Okta Users API; the other sources never call out. */
const oktaUsersApi = (async () =>
  new Response(JSON.stringify({ id: '00u1', status: 'ACTIVE', profile: { email: 'a@x.com' } }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  })) as typeof fetch;

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
    source: 'workos',
    options: {},
    headers: {},
    payload: { id: 'event_1', event: 'dsync.user.updated', data: { id: 'directory_user_1' } },
    validators: ['workos event', 'workos user'],
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
    };
    const prepared = {
      connection,
      source: SOURCES[testCase.source].prepare(connection),
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
