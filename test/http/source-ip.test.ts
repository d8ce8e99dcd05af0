import type { Request } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpContext } from '../../lib/http/middleware.ts';
import {
  compileAllowList,
  parseSourceIpRange,
  sourceIpMiddleware,
} from '../../lib/http/source-ip.ts';

describe('parseSourceIpRange', () => {
  it.each([
    ['192.0.2.0/24', { family: 'ipv4', address: '192.0.2.0', prefix: 24 }],
    ['203.0.113.7', { family: 'ipv4', address: '203.0.113.7', prefix: 32 }],
    ['0.0.0.0/0', { family: 'ipv4', address: '0.0.0.0', prefix: 0 }],
    ['2001:db8::/32', { family: 'ipv6', address: '2001:db8::', prefix: 32 }],
    ['2600:1f24:64:8000::/56', { family: 'ipv6', address: '2600:1f24:64:8000::', prefix: 56 }],
    ['::1', { family: 'ipv6', address: '::1', prefix: 128 }],
    ['::ffff:192.0.2.0/120', { family: 'ipv6', address: '::ffff:192.0.2.0', prefix: 120 }],
  ])('reads %s', (entry, range) => {
    expect(parseSourceIpRange(entry)).toEqual(range);
  });

  it.each([
    ['192.0.2.1/24', 'bits set past its /24; the block is 192.0.2.0/24'],
    ['2001:db8::1/32', 'bits set past its /32; the block is 2001:db8::/32'],
    ['2001:db8:0:0:1::/64', 'the block is 2001:db8::/64'],
    ['192.0.2.0/33', 'prefix length over 32'],
    ['2001:db8::/129', 'prefix length over 128'],
    ['192.0.2.0/', 'not a number'],
    ['192.0.2.0/024', 'not a number'],
    ['192.0.2.0/24/8', 'not a number'],
    ['192.0.2', 'not an IPv4 or IPv6 address'],
    ['010.0.0.1', 'not an IPv4 or IPv6 address'],
    ['fe80::1%eth0', 'not an IPv4 or IPv6 address'],
    ['example.com', 'not an IPv4 or IPv6 address'],
    ['', 'not an IPv4 or IPv6 address'],
  ])('refuses %s', (entry, message) => {
    expect(() => parseSourceIpRange(entry)).toThrow(message);
  });
});

/** A 32-bit number as a dotted IPv4 address. */
const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');

describe('compileAllowList', () => {
  it('admits exactly the addresses of an IPv4 block: its first and last, not the neighbours', () => {
    const list = compileAllowList(['198.51.100.64/26']);
    expect(list.allows('198.51.100.64')).toBe(true);
    expect(list.allows('198.51.100.127')).toBe(true);
    expect(list.allows('198.51.100.63')).toBe(false);
    expect(list.allows('198.51.100.128')).toBe(false);
  });

  it('agrees with the prefix arithmetic for any IPv4 block and address', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 32 }),
        fc.nat({ max: 2 ** 32 - 1 }),
        (base, prefix, probe) => {
          const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
          const network = (base & mask) >>> 0;
          const list = compileAllowList([`${dotted(network)}/${prefix}`]);
          expect(list.allows(dotted(probe))).toBe((probe & mask) >>> 0 === network);
        },
      ),
    );
  });

  it('matches IPv6 blocks, and IPv4 rules also for IPv4-mapped IPv6 peers', () => {
    const list = compileAllowList(['2001:db8::/32', '192.0.2.0/24']);
    expect(list.allows('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(list.allows('2001:db9::')).toBe(false);
    expect(list.allows('2001:0db8:0000::1')).toBe(true);
    expect(list.allows('::ffff:192.0.2.200')).toBe(true);
    expect(list.allows('::ffff:c000:02c8')).toBe(true);
    expect(list.allows('::ffff:192.0.3.1')).toBe(false);
    expect(list.allows('192.0.2.9')).toBe(true);
  });

  it('refuses what is not an address: empty, garbled, with a port, with a zone', () => {
    const list = compileAllowList(['0.0.0.0/0', '::/0']);
    expect(list.allows('192.0.2.1')).toBe(true);
    for (const sourceIp of ['', 'unknown', '192.0.2.1:443', 'fe80::1%eth0', ' 192.0.2.1']) {
      expect(list.allows(sourceIp), sourceIp).toBe(false);
    }
  });
});

interface Prepared {
  id: string;
  allowed?: string[];
}
type Ctx = HttpContext<Prepared>;

const requestFrom = (connection: Prepared | undefined, sourceIp: string) =>
  ({
    event: { requestContext: { http: { sourceIp } } } as unknown as APIGatewayProxyEventV2,
    context: { connection } as Ctx,
    response: undefined,
    error: undefined,
    internal: {},
  }) as unknown as Request<APIGatewayProxyEventV2, never, Error, Ctx & Context>;

describe('sourceIpMiddleware', () => {
  const open: Prepared = { id: 'open' };
  const fenced: Prepared = { id: 'fenced', allowed: ['192.0.2.0/24'] };
  const connections = new Map([
    ['open', open],
    ['fenced', fenced],
  ]);

  it('fails the cold start naming every connection whose list does not compile', () => {
    const bad = new Map([
      ['a', { id: 'a', allowed: ['192.0.2.1/24'] }],
      ['b', { id: 'b', allowed: ['::1'] }],
      ['c', { id: 'c', allowed: ['nope'] }],
    ]);
    expect(() => sourceIpMiddleware<Ctx>(bad, (c) => c.allowed)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: [
          expect.stringMatching(/^a: allowedSourceIps "192\.0\.2\.1\/24" has bits set/),
          expect.stringMatching(/^c: allowedSourceIps "nope" is not/),
        ],
      }),
    );
  });

  it('passes connections without a list and allowed peers, and refuses others with a stable code', () => {
    const refused: string[] = [];
    const middleware = sourceIpMiddleware<Ctx>(
      connections,
      (c) => c.allowed,
      (ip) => refused.push(ip),
    );
    const check = middleware.before as (request: unknown) => unknown;
    expect(check(requestFrom(open, '203.0.113.1'))).toBeUndefined();
    expect(check(requestFrom(fenced, '192.0.2.77'))).toBeUndefined();
    expect(() => check(requestFrom(fenced, '203.0.113.1'))).toThrow(
      expect.objectContaining({ code: 'SOURCE_IP_NOT_ALLOWED', statusCode: 403, retryable: false }),
    );
    expect(() => check(requestFrom(fenced, ''))).toThrow(
      expect.objectContaining({ code: 'SOURCE_IP_NOT_ALLOWED' }),
    );
    expect(refused).toEqual(['203.0.113.1', '']);
  });

  it('is a wiring bug, not a refusal, when it runs before the connection lookup', () => {
    const check = sourceIpMiddleware<Ctx>(connections, (c) => c.allowed).before as (
      request: unknown,
    ) => unknown;
    expect(() => check(requestFrom(undefined, '192.0.2.1'))).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});
