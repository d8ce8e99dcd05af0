import { describe, expect, it } from 'vitest';
import { type HeaderBag, verifyTc3Request } from '../../emulator/verify.ts';
import { signTc3 } from '../../lib/tencent/sign.ts';

const DOC_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const DOC_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const lookup = (id: string) =>
  id === DOC_ID ? { SecretId: DOC_ID, SecretKey: DOC_KEY } : undefined;

// Reference §1.2: the published CVM DescribeInstances vector, bytes exactly as published.
const CVM_BODY =
  '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
const CVM_HEADERS: HeaderBag = {
  authorization: `TC3-HMAC-SHA256 Credential=${DOC_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168`,
  'content-type': 'application/json; charset=utf-8',
  host: 'cvm.tencentcloudapi.com',
  'x-tc-action': 'DescribeInstances',
  'x-tc-timestamp': '1551113065',
};

// Reference §1.3: CIAM-shaped vector, cross-checked against the official SDK.
const CIAM_BODY =
  '{"UserId":"u-1","UserStoreId":"s-1","PhoneNumber":"+65 81234567","Birthdate":946684800000}';
const ciamHeaders = (contentType: string, signature: string): HeaderBag => ({
  authorization: `TC3-HMAC-SHA256 Credential=${DOC_ID}/2023-11-14/ciam/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
  'content-type': contentType,
  host: 'ciam.tencentcloudapi.com',
  'x-tc-timestamp': '1700000000',
});

const verify = (
  headers: HeaderBag,
  body: string,
  nowMs: number,
  extra: Partial<Parameters<typeof verifyTc3Request>[0]> = {},
) =>
  verifyTc3Request({
    method: 'POST',
    headers,
    body: Buffer.from(body, 'utf8'),
    nowMs,
    lookupCredential: lookup,
    ...extra,
  });

describe('emulator/verify', () => {
  it('accepts Tencent’s published CVM signing example', () => {
    expect(verify(CVM_HEADERS, CVM_BODY, 1551113065_000, { service: 'cvm' })).toEqual({
      ok: true,
      secretId: DOC_ID,
      timestamp: 1551113065,
    });
  });

  it('accepts the CIAM signing examples with both content types', () => {
    const sdk = ciamHeaders(
      'application/json',
      '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
    );
    const doc = ciamHeaders(
      'application/json; charset=utf-8',
      '8d76336b606a51bdc98adf01fb93bd552304e2588f2157302137719e456fe65a',
    );
    expect(verify(sdk, CIAM_BODY, 1700000000_000)).toMatchObject({ ok: true });
    expect(verify(doc, CIAM_BODY, 1700000000_000)).toMatchObject({ ok: true });
  });

  it('ignores the port in Host, as the official SDK signs the hostname only', () => {
    const headers = { ...CVM_HEADERS, host: 'cvm.tencentcloudapi.com:8443' };
    expect(verify(headers, CVM_BODY, 1551113065_000, { service: 'cvm' })).toMatchObject({
      ok: true,
    });
  });

  it('honours extra signed headers such as x-tc-action', () => {
    const signed = signTc3({
      secretId: DOC_ID,
      secretKey: DOC_KEY,
      service: 'ciam',
      host: 'ciam.tencentcloudapi.com',
      headers: { 'X-TC-Action': 'UpdateUser' },
      contentType: 'application/json',
      body: '{}',
      timestamp: 1700000000,
    });
    const headers = {
      authorization: signed.authorization,
      'content-type': 'application/json',
      host: 'ciam.tencentcloudapi.com',
      'x-tc-action': 'UpdateUser',
      'x-tc-timestamp': '1700000000',
    };
    expect(verify(headers, '{}', 1700000000_000)).toMatchObject({ ok: true });
    expect(verify({ ...headers, 'x-tc-action': 'CreateUser' }, '{}', 1700000000_000)).toMatchObject(
      { ok: false, code: 'AuthFailure.SignatureFailure' },
    );
  });

  it('rejects one changed body byte with SignatureFailure', () => {
    const tampered = CIAM_BODY.replace('u-1', 'u-2');
    const headers = ciamHeaders(
      'application/json',
      '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
    );
    expect(verify(headers, tampered, 1700000000_000)).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it.each([
    ['missing', undefined],
    ['another scheme', 'Bearer abc'],
    [
      'no SignedHeaders',
      `TC3-HMAC-SHA256 Credential=${DOC_ID}/2023-11-14/ciam/tc3_request, Signature=ab`,
    ],
    [
      'bad credential scope',
      `TC3-HMAC-SHA256 Credential=${DOC_ID}/2023-11-14/ciam, SignedHeaders=content-type;host, Signature=ab`,
    ],
    [
      'host not signed',
      `TC3-HMAC-SHA256 Credential=${DOC_ID}/2023-11-14/ciam/tc3_request, SignedHeaders=content-type, Signature=ab`,
    ],
  ])('answers InvalidAuthorization when Authorization is %s', (_, authorization) => {
    const headers = { ...ciamHeaders('application/json', 'x'), authorization };
    expect(verify(headers, CIAM_BODY, 1700000000_000)).toMatchObject({
      ok: false,
      code: 'AuthFailure.InvalidAuthorization',
    });
  });

  it('answers SecretIdNotFound for an unknown SecretId', () => {
    const headers = ciamHeaders(
      'application/json',
      '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
    );
    expect(
      verify(headers, CIAM_BODY, 1700000000_000, { lookupCredential: () => undefined }),
    ).toMatchObject({
      ok: false,
      code: 'AuthFailure.SecretIdNotFound',
    });
  });

  it('answers SignatureFailure when the scope service is not ciam', () => {
    // Perfectly signed for cvm, but sent to the CIAM emulator.
    expect(verify(CVM_HEADERS, CVM_BODY, 1551113065_000)).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it('answers SignatureFailure when the scope date is not the UTC date of the timestamp', () => {
    // 1551113065 is already 2019-02-26 in UTC+8: the SDK bug #33 produced exactly this scope.
    const headers = {
      ...CVM_HEADERS,
      authorization: String(CVM_HEADERS.authorization).replace('2019-02-25', '2019-02-26'),
    };
    expect(verify(headers, CVM_BODY, 1551113065_000, { service: 'cvm' })).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it('answers SignatureExpire beyond 300 s either way and accepts exactly 300 s', () => {
    const headers = ciamHeaders(
      'application/json',
      '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
    );
    expect(verify(headers, CIAM_BODY, 1700000301_000)).toMatchObject({
      code: 'AuthFailure.SignatureExpire',
    });
    expect(verify(headers, CIAM_BODY, 1699999699_000)).toMatchObject({
      code: 'AuthFailure.SignatureExpire',
    });
    expect(verify(headers, CIAM_BODY, 1700000300_000)).toMatchObject({ ok: true });
  });

  it('requires a matching X-TC-Token when the credential has a token', () => {
    const withToken = (id: string) =>
      id === DOC_ID ? { SecretId: DOC_ID, SecretKey: DOC_KEY, Token: 'session-token' } : undefined;
    const headers = ciamHeaders(
      'application/json',
      '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
    );
    const at = 1700000000_000;
    expect(verify(headers, CIAM_BODY, at, { lookupCredential: withToken })).toMatchObject({
      code: 'AuthFailure.TokenFailure',
    });
    expect(
      verify({ ...headers, 'x-tc-token': 'other-token' }, CIAM_BODY, at, {
        lookupCredential: withToken,
      }),
    ).toMatchObject({ code: 'AuthFailure.TokenFailure' });
    expect(
      verify({ ...headers, 'x-tc-token': 'session-token' }, CIAM_BODY, at, {
        lookupCredential: withToken,
      }),
    ).toMatchObject({ ok: true });
  });
});
