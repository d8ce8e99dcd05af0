import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvent } from '../helpers/events.ts';
import { type FakeOkta, oktaUser, startFakeOkta } from '../helpers/fake-okta.ts';
import { readJson } from '../helpers/files.ts';
import { type Stack, startStack } from '../helpers/stack.ts';

const HOOK_SECRET = 'demo-okta-hook-secret';
const API_TOKEN = 'demo-okta-api-token';

let okta: FakeOkta;
let stack: Stack;

beforeAll(async () => {
  okta = await startFakeOkta({
    apiToken: API_TOKEN,
    users: [
      oktaUser('ext-bob', {
        login: 'bob',
        email: 'bob.okta@example.com',
        mobilePhone: '+65 8123 4568',
        nickName: 'Bobby',
      }),
    ],
  });
  const local = readJson('config/local.json') as { connections: unknown[] };
  stack = await startStack({
    config: {
      ...local,
      connections: [
        ...local.connections,
        {
          id: 'okta',
          source: 'okta',
          userStoreId: 'local-store',
          secrets: {
            signing: [{ name: 'okta', key: 'hookSecret' }],
            apiToken: { name: 'okta', key: 'apiToken' },
          },
          resolve: { by: 'indexedAttribute', index: 1 },
          options: { orgUrl: okta.orgUrl },
        },
      ],
    },
    secrets: {
      ...(readJson('config/local-secrets.json') as object),
      okta: { hookSecret: HOOK_SECRET, apiToken: API_TOKEN },
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await okta?.close();
});

const fixtureBody = (): string => readEvent('okta.user-updated').body ?? '';

describe('Okta Event Hooks end to end (local server → handler → fake Okta + CIAM emulator)', () => {
  it('answers the one-time verification challenge', async () => {
    const res = await fetch(`${stack.server.url}/webhooks/okta`, {
      headers: { 'x-okta-verification-challenge': 'abc123', authorization: HOOK_SECRET },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ verification: 'abc123' });
  });

  it('fetches the profile of a thin event from the Okta Users API and applies it', async () => {
    const res = await fetch(`${stack.server.url}/webhooks/okta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: HOOK_SECRET },
      body: fixtureBody(),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'applied', userId: 'demo-user-2' });
    expect(okta.requests.at(-1)).toMatchObject({
      userId: 'ext-bob',
      authorization: `SSWS ${API_TOKEN}`,
    });
    const { User } = await stack.ciam.describeUserById({
      UserStoreId: 'local-store',
      UserId: 'demo-user-2',
      Original: true,
    });
    expect(User).toMatchObject({
      Email: 'bob.okta@example.com',
      PhoneNumber: '+6581234568',
      Nickname: 'Bobby',
    });
  });

  it('refuses a wrong hook secret with 401 before calling Okta or CIAM', async () => {
    const before = okta.requests.length;
    stack.emulator.reset();
    const res = await fetch(`${stack.server.url}/webhooks/okta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'wrong' },
      body: fixtureBody(),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(okta.requests.length).toBe(before);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  it('asks Okta to retry (503 + Retry-After) when its Users API is unavailable', async () => {
    okta.behave(503);
    const res = await fetch(`${stack.server.url}/webhooks/okta`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: HOOK_SECRET },
      body: fixtureBody(),
    });
    okta.behave('ok');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
  });
});
