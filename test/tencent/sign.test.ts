import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import type SdkSign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lib/hash.ts';
import {
  createTc3KeyCache,
  signTc3,
  tc3CanonicalRequest,
  tc3Date,
  tc3SigningKey,
  tc3StringToSign,
} from '../../lib/tencent/sign.ts';

// CommonJS with `exports.default`: require() gives the same class under tsx and vitest.
const { default: Sign } = createRequire(import.meta.url)(
  'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js',
) as { default: typeof SdkSign };

const SECRET_ID = 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE';
const SECRET_KEY = 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE';
const CVM_BODY =
  '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}';
const CVM_BODY_HASH = '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064';
const CIAM_BODY =
  '{"UserId":"u-1","UserStoreId":"s-1","PhoneNumber":"+65 81234567","Birthdate":946684800000}';

const hmacHex = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data).digest('hex');

describe('tencent/sign', () => {
  describe('published CVM vector (Tencent API 3.0 signature docs)', () => {
    const signed = signTc3({
      secretId: SECRET_ID,
      secretKey: SECRET_KEY,
      service: 'cvm',
      host: 'cvm.tencentcloudapi.com',
      contentType: 'application/json; charset=utf-8',
      body: CVM_BODY,
      timestamp: 1551113065,
    });

    it('hashes the exact payload bytes', () => {
      expect(sha256Hex(CVM_BODY)).toBe(CVM_BODY_HASH);
    });

    it('builds the canonical request byte for byte', () => {
      expect(signed.canonicalRequest).toBe(
        [
          'POST',
          '/',
          '',
          'content-type:application/json; charset=utf-8',
          'host:cvm.tencentcloudapi.com',
          '',
          'content-type;host',
          CVM_BODY_HASH,
        ].join('\n'),
      );
      expect(sha256Hex(signed.canonicalRequest)).toBe(
        '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
      );
    });

    it('builds the string to sign', () => {
      expect(signed.stringToSign).toBe(
        'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
      );
    });

    it('produces the published signature and Authorization', () => {
      expect(signed.signature).toBe(
        '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
      );
      expect(signed.signedHeaders).toBe('content-type;host');
      expect(signed.date).toBe('2019-02-25');
      expect(signed.authorization).toBe(
        'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
      );
    });

    // The published SecretDate/SecretService steps only exercise node:crypto; the derived key
    // is what our code produces.
    it('derives the published signing key', () => {
      expect(tc3SigningKey(SECRET_KEY, '2019-02-25', 'cvm').toString('hex')).toBe(
        'ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1',
      );
    });
  });

  describe('Chinese-doc vector signing x-tc-action', () => {
    const expectedCanonical =
      'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064';
    const canonicalHash = '7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84';

    it('canonicalises the extra header, lower-cased and sorted', () => {
      const { canonicalRequest, signedHeaders } = tc3CanonicalRequest(
        [
          ['x-tc-action', 'describeinstances'],
          ['host', 'cvm.tencentcloudapi.com'],
          ['content-type', 'application/json; charset=utf-8'],
        ],
        CVM_BODY_HASH,
      );
      expect(canonicalRequest).toBe(expectedCanonical);
      expect(signedHeaders).toBe('content-type;host;x-tc-action');
      expect(sha256Hex(canonicalRequest)).toBe(canonicalHash);
    });

    it('signTc3 produces the same canonical request from an X-TC-Action header', () => {
      const signed = signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: 'cvm',
        host: 'cvm.tencentcloudapi.com',
        headers: { 'X-TC-Action': 'DescribeInstances' },
        contentType: 'application/json; charset=utf-8',
        body: CVM_BODY,
        timestamp: 1551113065,
      });
      expect(signed.canonicalRequest).toBe(expectedCanonical);
      expect(signed.authorization).toContain('SignedHeaders=content-type;host;x-tc-action,');
    });

    it('gives the published signature from the published SecretSigning', () => {
      const stringToSign = tc3StringToSign(
        1551113065,
        '2019-02-25/cvm/tc3_request',
        expectedCanonical,
      );
      const secretSigning = Buffer.from(
        'b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af',
        'hex',
      );
      expect(hmacHex(secretSigning, stringToSign)).toBe(
        '10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f',
      );
    });
  });

  describe('CIAM vectors', () => {
    const sign = (contentType: string) =>
      signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: 'ciam',
        host: 'ciam.tencentcloudapi.com',
        contentType,
        body: CIAM_BODY,
        timestamp: 1700000000,
      });

    it('signs application/json as the official SDK does', () => {
      const signed = sign('application/json');
      expect(sha256Hex(CIAM_BODY)).toBe(
        '327134d123eb2495d53ae074d472415f278278fada1bf16fe7b120d2bad9f9e7',
      );
      expect(sha256Hex(signed.canonicalRequest)).toBe(
        '7ba51881fe3385639b390bd5e132ceebcb87559e5c24c794a664841dfdab0f16',
      );
      expect(signed.authorization).toBe(
        'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/ciam/tc3_request, SignedHeaders=content-type;host, Signature=503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
      );
    });

    it('signs application/json; charset=utf-8', () => {
      const signed = sign('application/json; charset=utf-8');
      expect(sha256Hex(signed.canonicalRequest)).toBe(
        'a845434d445471b05e4c87fe7a73ef8572f262b87456cf735eecf02bd7f20db6',
      );
      expect(signed.signature).toBe(
        '8d76336b606a51bdc98adf01fb93bd552304e2588f2157302137719e456fe65a',
      );
    });

    it('signs bytes and the equivalent string identically', () => {
      const fromBytes = signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: 'ciam',
        host: 'ciam.tencentcloudapi.com',
        contentType: 'application/json',
        body: new TextEncoder().encode(CIAM_BODY),
        timestamp: 1700000000,
      });
      expect(fromBytes.signature).toBe(
        '503e69d4d65808bbc6152f04773a21a151578c03824b8411a0d337e2dcf5ede7',
      );
    });
  });

  describe('dates', () => {
    it('uses the UTC date even when UTC+8 is already on the next day', () => {
      expect(tc3Date(1551113065)).toBe('2019-02-25');
    });

    it('switches date exactly at UTC midnight', () => {
      expect(tc3Date(1551139199)).toBe('2019-02-25');
      expect(tc3Date(1551139200)).toBe('2019-02-26');
    });

    it('keeps signing correctly when the same key is used across dates', () => {
      const base = {
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: 'ciam',
        host: 'ciam.tencentcloudapi.com',
        contentType: 'application/json',
        body: CIAM_BODY,
      };
      // Judged by the official SDK rather than by our own key derivation, which is under test.
      const sdk = (timestamp: number) =>
        Sign.sign3({
          url: 'https://ciam.tencentcloudapi.com/',
          payload: Buffer.from(CIAM_BODY, 'utf8'),
          timestamp,
          service: 'ciam',
          secretId: SECRET_ID,
          secretKey: SECRET_KEY,
          multipart: false,
          boundary: '',
          headers: { 'Content-Type': 'application/json' },
        });
      // Through one cache, as a client signs: its date and key must follow the timestamp.
      const cache = createTc3KeyCache();
      const before = signTc3({ ...base, timestamp: 1551139199 }, cache);
      const after = signTc3({ ...base, timestamp: 1551139200 }, cache);
      const again = signTc3({ ...base, timestamp: 1551139199 }, cache);
      expect(before.authorization).toContain('/2019-02-25/ciam/');
      expect(after.authorization).toContain('/2019-02-26/ciam/');
      expect([before.authorization, after.authorization, again.authorization]).toEqual([
        sdk(1551139199),
        sdk(1551139200),
        sdk(1551139199),
      ]);
    });
  });

  describe('against the official SDK signer', () => {
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8');
    const body = fc.oneof(
      fc.jsonValue({ stringUnit: 'binary' }).map((value) => JSON.stringify(value)),
      fc
        .dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }))
        .map((value) => JSON.stringify(value)),
      fc.string({ unit: 'binary' }),
    );
    const endpoint = fc.constantFrom(
      { host: 'ciam.tencentcloudapi.com', service: 'ciam' },
      { host: 'ciam.intl.tencentcloudapi.com', service: 'ciam' },
      { host: 'cvm.tencentcloudapi.com', service: 'cvm' },
    );

    it('produces the same Authorization for any body, time, key and content type', () => {
      fc.assert(
        fc.property(
          body,
          fc.integer({ min: 0, max: 4102444800 }),
          contentType,
          fc.string({ minLength: 1 }),
          fc.string({ minLength: 1, unit: 'binary' }),
          endpoint,
          (payload, timestamp, type, secretId, secretKey, { host, service }) => {
            const ours = signTc3({
              secretId,
              secretKey,
              service,
              host,
              contentType: type,
              body: payload,
              timestamp,
            });
            const theirs = Sign.sign3({
              method: 'POST',
              url: `https://${host}/`,
              // A Buffer is hashed as is; a string would be JSON-encoded (quoted) by the SDK.
              payload: Buffer.from(payload, 'utf8'),
              timestamp,
              service,
              secretId,
              secretKey,
              multipart: false,
              boundary: '',
              headers: { 'Content-Type': type },
            });
            expect(ours.authorization).toBe(theirs);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('signs the empty body like the SDK', () => {
      const ours = signTc3({
        secretId: SECRET_ID,
        secretKey: SECRET_KEY,
        service: 'ciam',
        host: 'ciam.tencentcloudapi.com',
        contentType: 'application/json',
        body: '',
        timestamp: 1700000000,
      });
      expect(ours.canonicalRequest.endsWith(createHash('sha256').digest('hex'))).toBe(true);
      expect(ours.authorization).toBe(
        Sign.sign3({
          url: 'https://ciam.tencentcloudapi.com/',
          payload: Buffer.alloc(0),
          timestamp: 1700000000,
          service: 'ciam',
          secretId: SECRET_ID,
          secretKey: SECRET_KEY,
          multipart: false,
          boundary: '',
          headers: { 'Content-Type': 'application/json' },
        }),
      );
    });
  });

  describe('createTc3KeyCache', () => {
    const input = (timestamp: number, secretKey = SECRET_KEY, service = 'ciam') => ({
      secretId: SECRET_ID,
      secretKey,
      service,
      host: `${service}.tencentcloudapi.com`,
      contentType: 'application/json',
      body: CIAM_BODY,
      timestamp,
    });

    /** A cache whose derivations are recorded as `date/service/secretKey`. */
    const watched = (size?: number) => {
      const derived: string[] = [];
      const cache = createTc3KeyCache({
        ...(size === undefined ? {} : { size }),
        derive: (secretKey, date, service) => {
          derived.push(`${date}/${service}/${secretKey}`);
          return tc3SigningKey(secretKey, date, service);
        },
      });
      return { cache, derived };
    };

    it('signs exactly as without a cache, whatever the order of days, keys and services', () => {
      const call = fc.record({
        timestamp: fc.integer({ min: 1_551_000_000, max: 1_551_400_000 }),
        secretKey: fc.constantFrom(SECRET_KEY, 'rotated-key', 'k'),
        service: fc.constantFrom('ciam', 'cvm'),
      });
      fc.assert(
        fc.property(fc.array(call, { minLength: 1, maxLength: 40 }), fc.nat(20), (calls, size) => {
          const cache = createTc3KeyCache({ size: size + 1 });
          for (const { timestamp, secretKey, service } of calls) {
            const signed = input(timestamp, secretKey, service);
            expect(signTc3(signed, cache)).toEqual(signTc3(signed));
          }
        }),
        { numRuns: 200 },
      );
    });

    it('derives a key once per secret, date and service, and reuses it', () => {
      const { cache, derived } = watched();
      signTc3(input(1551113065), cache);
      signTc3(input(1551113066), cache);
      signTc3(input(1551139200), cache);
      signTc3(input(1551113067), cache);
      signTc3(input(1551113068, 'rotated-key'), cache);
      signTc3(input(1551113069, SECRET_KEY, 'cvm'), cache);
      signTc3(input(1551113070), cache);
      expect(derived).toEqual([
        `2019-02-25/ciam/${SECRET_KEY}`,
        `2019-02-26/ciam/${SECRET_KEY}`,
        '2019-02-25/ciam/rotated-key',
        `2019-02-25/cvm/${SECRET_KEY}`,
      ]);
    });

    it('shares nothing between two caches', () => {
      const first = watched();
      const second = watched();
      signTc3(input(1551113065), first.cache);
      signTc3(input(1551113065), second.cache);
      signTc3(input(1551113066), first.cache);
      signTc3(input(1551113066, 'rotated-key'), second.cache);
      expect(first.derived).toEqual([`2019-02-25/ciam/${SECRET_KEY}`]);
      expect(second.derived).toEqual([
        `2019-02-25/ciam/${SECRET_KEY}`,
        '2019-02-25/ciam/rotated-key',
      ]);
    });

    it('keeps at most `size` keys, dropping the oldest', () => {
      const { cache, derived } = watched(2);
      for (const key of ['a', 'b', 'c', 'b', 'a']) signTc3(input(1551113065, key), cache);
      expect(derived).toEqual([
        '2019-02-25/ciam/a',
        '2019-02-25/ciam/b',
        '2019-02-25/ciam/c',
        '2019-02-25/ciam/a',
      ]);
    });
  });
});
