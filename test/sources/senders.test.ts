import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { WebhookSourceType } from '../../lib/config/types.ts';
import { SOURCES } from '../../lib/sources/registry.ts';
import { SENDERS } from '../../lib/sources/senders.ts';
import { inboundRequest, sourceConnection, sourceContext } from '../helpers/sources.ts';

// Each sender is checked against the verifier the adapter runs (a delivery it signs is accepted;
// the same delivery checked with another secret is not) and, where one exists, an outside oracle.

const HMAC_FIELDS = { payloadSchema: {}, fields: { externalId: 'id' } };

/** Printable ASCII without spaces: what a token or a shared header value looks like. */
const token = fc.stringMatching(/^[!-~]{1,64}$/);
const standardWebhooksSecret = fc
  .uint8Array({ minLength: 24, maxLength: 64 })
  .map((key) => `whsec_${Buffer.from(key).toString('base64')}`);

interface SenderCase {
  name: string;
  source: WebhookSourceType;
  options: Record<string, unknown>;
  secret: fc.Arbitrary<string>;
}

const CASES: SenderCase[] = [
  {
    name: 'Standard Webhooks',
    source: 'standard-webhooks',
    options: {},
    secret: standardWebhooksSecret,
  },
  { name: 'WorkOS', source: 'workos', options: {}, secret: token },
  { name: 'Auth0, bearer', source: 'auth0', options: {}, secret: token },
  {
    name: 'Auth0, basic',
    source: 'auth0',
    options: { auth: 'basic' },
    secret: fc.tuple(token, token).map(([user, password]) => `${user}:${password}`),
  },
  {
    name: 'Auth0, a custom header',
    source: 'auth0',
    options: { auth: 'header', headerName: 'x-auth0-token' },
    secret: token,
  },
  {
    name: 'Okta',
    source: 'okta',
    options: { orgUrl: 'https://example.okta.com' },
    secret: token,
  },
  {
    name: 'Okta, a custom header',
    source: 'okta',
    options: { orgUrl: 'https://example.okta.com', headerName: 'x-okta-secret' },
    secret: token,
  },
  { name: 'HMAC, GitHub style', source: 'hmac', options: HMAC_FIELDS, secret: token },
  {
    name: 'HMAC, base64 with a signed timestamp and an event id',
    source: 'hmac',
    options: {
      ...HMAC_FIELDS,
      signatureHeader: 'X-Keycloak-Signature',
      prefix: '',
      encoding: 'base64',
      timestampHeader: 'X-Webhook-Timestamp',
      eventIdHeader: 'X-Event-Id',
    },
    secret: token,
  },
];

const prepare = ({ source, options }: SenderCase) => {
  const connection = sourceConnection(source, source, options);
  return SOURCES[source].prepare(
    source === 'okta'
      ? { ...connection, secrets: { ...connection.secrets, apiToken: { name: 'api-token' } } }
      : connection,
  );
};

/** API Gateway lower-cases header names before the handler sees them. */
const received = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

/** JSON, as every webhook sender posts, with text beyond ASCII so bytes and characters differ. */
const delivery = fc.record({
  body: fc.json({ stringUnit: 'grapheme', maxDepth: 2 }),
  nowMs: fc.integer({ min: 1_000_000_000_000, max: 4_000_000_000_000 }),
  eventId: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/),
});

describe('SENDERS', () => {
  it.each(CASES)(
    'signs what the $name verifier accepts, and only with its secret',
    async (testCase) => {
      const source = prepare(testCase);
      const secrets = fc
        .tuple(testCase.secret, testCase.secret)
        .filter(([secret, other]) => secret !== other);
      await fc.assert(
        fc.asyncProperty(delivery, secrets, async ({ body, nowMs, eventId }, [secret, other]) => {
          const headers = SENDERS[testCase.source](
            { body, secret, nowMs, eventId },
            testCase.options,
          );
          const request = inboundRequest(`/webhooks/${testCase.source}`, received(headers), body);
          const context = (signing: string) =>
            sourceContext(nowMs, { signing, 'api-token': 'unused' });
          await expect(source.authenticate(request, context(secret))).resolves.toBeUndefined();
          await expect(source.authenticate(request, context(other))).rejects.toMatchObject({
            code: 'SIGNATURE_INVALID',
          });
        }),
        { numRuns: 50 },
      );
    },
  );

  it('puts the event id in the HMAC event id header only when there is one', () => {
    const options = { ...HMAC_FIELDS, eventIdHeader: 'x-event-id' };
    const signed = { body: '{}', secret: 's', nowMs: 0 };
    expect(SENDERS.hmac({ ...signed, eventId: 'evt_1' }, options)['x-event-id']).toBe('evt_1');
    expect(SENDERS.hmac(signed, options)).not.toHaveProperty('x-event-id');
  });

  it('gives each Standard Webhooks message its own id unless one is given', () => {
    const signed = { body: '{}', secret: 'whsec_c2VjcmV0', nowMs: 0 };
    const first = SENDERS['standard-webhooks'](signed)['svix-id'];
    expect(first).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(SENDERS['standard-webhooks'](signed)['svix-id']).not.toBe(first);
    expect(SENDERS['standard-webhooks']({ ...signed, eventId: 'msg_1' })['svix-id']).toBe('msg_1');
  });
});

describe('SENDERS against outside oracles', () => {
  it('signs Standard Webhooks as the standardwebhooks library does, and it verifies them', () => {
    fc.assert(
      fc.property(delivery, standardWebhooksSecret, ({ body, eventId }, secret) => {
        // The library checks the timestamp against the real clock.
        const nowMs = Date.now();
        const headers = SENDERS['standard-webhooks']({ body, secret, nowMs, eventId });
        const library = new Webhook(secret);
        expect(headers['svix-signature']).toBe(library.sign(eventId, new Date(nowMs), body));
        expect(() =>
          library.verify(body, {
            'webhook-id': headers['svix-id'] ?? '',
            'webhook-timestamp': headers['svix-timestamp'] ?? '',
            'webhook-signature': headers['svix-signature'] ?? '',
          }),
        ).not.toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it("reproduces GitHub's published X-Hub-Signature-256 example", () => {
    const headers = SENDERS.hmac(
      { body: 'Hello, World!', secret: "It's a Secret to Everybody", nowMs: 0 },
      HMAC_FIELDS,
    );
    expect(headers).toEqual({
      'x-hub-signature-256':
        'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    });
  });
});
