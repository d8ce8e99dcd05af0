import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED_PATH } from '../../emulator/seed.ts';
import { loadSeed, type Seed } from '../../emulator/server.ts';
import {
  callEmulator,
  EMULATOR_USER_STORE_ID,
  type EmulatorCallInput,
  errorCode,
  useEmulator,
} from '../helpers/emulator.ts';

const NOW = 1_750_000_000_000;
const TS = NOW / 1000;
const STORE = EMULATOR_USER_STORE_ID;
const describeAlice = { UserStoreId: STORE, UserId: 'demo-user-1' };

describe('emulator/server protocol', () => {
  const emulator = useEmulator(
    { now: () => NOW, rateLimit: Number.POSITIVE_INFINITY },
    { resetBeforeEach: true },
  );
  const call = (input: EmulatorCallInput) =>
    callEmulator(emulator().url, { timestamp: TS, ...input });

  it('answers 404 off the API path and 405 for other methods on /', async () => {
    const other = await fetch(`${emulator().url}/v1/users`, { method: 'POST', body: '{}' });
    const get = await fetch(`${emulator().url}/`);
    expect(other.status).toBe(404);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('answers success as HTTP 200 JSON with a uuid RequestId', async () => {
    const res = await fetch(`${emulator().url}/`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');

    const ok = await call({ action: 'DescribeUserById', body: describeAlice });
    expect(ok.status).toBe(200);
    expect(errorCode(ok.Response)).toBeUndefined();
    expect(ok.Response.RequestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('answers InvalidAuthorization without an Authorization header', async () => {
    const res = await fetch(`${emulator().url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-TC-Action': 'DescribeUserById' },
      body: JSON.stringify(describeAlice),
    });
    const json = (await res.json()) as { Response: Record<string, unknown> };
    expect(res.status).toBe(200);
    expect(json.Response.Error).toMatchObject({ Code: 'AuthFailure.InvalidAuthorization' });
    expect(typeof (json.Response.Error as { Message: unknown }).Message).toBe('string');
    expect(typeof json.Response.RequestId).toBe('string');
  });

  it('answers SignatureExpire for a timestamp 301 s old', async () => {
    const res = await call({
      action: 'DescribeUserById',
      body: describeAlice,
      timestamp: TS - 301,
    });
    expect(errorCode(res.Response)).toBe('AuthFailure.SignatureExpire');
  });

  it('answers SignatureFailure when the body changes after signing', async () => {
    const res = await call({
      action: 'UpdateUser',
      body: { ...describeAlice, Nickname: 'a' },
      sendBody: JSON.stringify({ ...describeAlice, Nickname: 'b' }),
    });
    expect(errorCode(res.Response)).toBe('AuthFailure.SignatureFailure');
    expect(emulator().store.getUser(STORE, 'demo-user-1')?.Nickname).toBeUndefined();
  });

  it('answers SignatureFailure for a wrong key and SecretIdNotFound for an unknown id', async () => {
    const wrongKey = await call({
      action: 'DescribeUserById',
      body: describeAlice,
      secretKey: 'nope',
    });
    const unknownId = await call({
      action: 'DescribeUserById',
      body: describeAlice,
      secretId: 'AKIDx',
    });
    expect(errorCode(wrongKey.Response)).toBe('AuthFailure.SignatureFailure');
    expect(errorCode(unknownId.Response)).toBe('AuthFailure.SecretIdNotFound');
  });

  it.each<[string, EmulatorCallInput, string]>([
    [
      'version is unknown',
      { action: 'DescribeUserById', body: describeAlice, version: '2020-01-01' },
      'NoSuchVersion',
    ],
    ['action is unknown', { action: 'DescribeNothing', body: {} }, 'InvalidAction'],
    [
      'action is real but not emulated',
      { action: 'UpdateUserStore', body: {} },
      'UnsupportedOperation',
    ],
    [
      'region is not ap-singapore',
      { action: 'DescribeUserById', body: describeAlice, region: 'ap-guangzhou' },
      'UnsupportedRegion',
    ],
    [
      'region is missing',
      { action: 'DescribeUserById', body: describeAlice, region: null },
      'MissingParameter',
    ],
    [
      'body is not JSON',
      { action: 'DescribeUserById', body: '{"UserStoreId":' },
      'InvalidParameter',
    ],
    ['body is a JSON array', { action: 'DescribeUserById', body: '[]' }, 'InvalidParameter'],
    [
      'a top-level field is unknown',
      { action: 'DescribeUserById', body: { ...describeAlice, Foo: 1 } },
      'UnknownParameter',
    ],
    [
      'a nested field is unknown',
      {
        action: 'UpdateUser',
        body: { ...describeAlice, CustomizationAttributes: [{ Name: 'a', Value: 'b', Foo: 'c' }] },
      },
      'UnknownParameter',
    ],
    [
      'a required field is missing',
      { action: 'DescribeUserById', body: { UserStoreId: STORE } },
      'MissingParameter',
    ],
    [
      'a nested required field is missing',
      { action: 'DescribeUser', body: { UserStoreId: STORE, Pageable: { PageSize: 10 } } },
      'MissingParameter',
    ],
    [
      'a field has the wrong type',
      { action: 'UpdateUser', body: { ...describeAlice, UserGroup: 'group-staff' } },
      'InvalidParameter',
    ],
    [
      'Birthdate is a string',
      { action: 'UpdateUser', body: { ...describeAlice, Birthdate: '2000-01-01' } },
      'InvalidParameter',
    ],
    [
      'Original is not a boolean',
      { action: 'DescribeUserById', body: { ...describeAlice, Original: 'true' } },
      'InvalidParameter',
    ],
    [
      'the content type is not JSON',
      { action: 'DescribeUserById', body: describeAlice, contentType: 'text/plain' },
      'InvalidParameter',
    ],
  ])('answers %s with its code', async (_, input, code) => {
    const res = await call(input);
    expect(res.status).toBe(200);
    expect(errorCode(res.Response)).toBe(code);
  });

  it('answers RequestSizeLimitExceeded above 10 MB', async () => {
    const big = JSON.stringify({ ...describeAlice, Nickname: 'x'.repeat(10 * 1024 * 1024) });
    const res = await call({ action: 'UpdateUser', body: big });
    expect(errorCode(res.Response)).toBe('RequestSizeLimitExceeded');
  });

  it('answers Message in English and never echoes personal data', async () => {
    const res = await call({
      action: 'UpdateUser',
      body: { ...describeAlice, Email: 'bob@example.com' },
    });
    const error = res.Response.Error as { Code: string; Message: string };
    expect(error.Code).toBe('FailedOperation.EmailAlreadyExists');
    expect(error.Message).toMatch(/^[\x20-\x7e]+$/);
    expect(error.Message).not.toContain('bob@example.com');
  });
});

describe('emulator/server temporary credentials', () => {
  const seed: Seed = {
    ...loadSeed(DEFAULT_SEED_PATH),
    credentials: [{ SecretId: 'AKIDtemp', SecretKey: 'tempsecret', Token: 'session-token' }],
  };
  const emulator = useEmulator({ seed });
  const input = {
    action: 'DescribeUserById',
    body: describeAlice,
    secretId: 'AKIDtemp',
    secretKey: 'tempsecret',
  };

  it('requires the matching X-TC-Token', async () => {
    const missing = await callEmulator(emulator().url, input);
    const wrong = await callEmulator(emulator().url, { ...input, token: 'other' });
    const right = await callEmulator(emulator().url, { ...input, token: 'session-token' });
    expect(errorCode(missing.Response)).toBe('AuthFailure.TokenFailure');
    expect(errorCode(wrong.Response)).toBe('AuthFailure.TokenFailure');
    expect(errorCode(right.Response)).toBeUndefined();
  });
});

describe('emulator/server rate limiting', () => {
  let clock = NOW;
  const emulator = useEmulator({ now: () => clock, rateLimit: 20 });
  const call = (action: string, body: unknown) =>
    callEmulator(emulator().url, { action, body, timestamp: Math.floor(clock / 1000) });

  it('answers RequestLimitExceeded beyond 20 calls per second per action', async () => {
    const results = await Promise.all(
      Array.from({ length: 25 }, () => call('DescribeUserById', describeAlice)),
    );
    const codes = results.map((r) => errorCode(r.Response));
    expect(codes.filter((c) => c === undefined)).toHaveLength(20);
    expect(codes.filter((c) => c === 'RequestLimitExceeded')).toHaveLength(5);

    // Buckets are per action.
    const other = await call('ListUserByProperty', {
      UserStoreId: STORE,
      PropertyCode: 'email',
      PropertyValue: 'bob@example.com',
    });
    expect(errorCode(other.Response)).toBeUndefined();

    // Half a second later ten tokens are back.
    clock += 500;
    const later = await Promise.all(
      Array.from({ length: 12 }, () => call('DescribeUserById', describeAlice)),
    );
    expect(later.filter((r) => errorCode(r.Response) === undefined)).toHaveLength(10);
  });
});
