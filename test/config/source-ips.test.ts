import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/load.ts';
import type { ConfigError } from '../../lib/errors.ts';

// `allowedSourceIps` against the generated validator the functions ship with: the schema checks
// the shape, the loader that every entry is a network.

const config = (allowedSourceIps: unknown) => ({
  ciam: { credentials: { name: 'ciam/creds' } },
  connections: [
    {
      id: 'clerk',
      source: 'standard-webhooks',
      userStoreId: 'store-1',
      secrets: { signing: [{ name: 'app/clerk', key: 'signingSecret' }] },
      resolve: { by: 'email' },
      ...(allowedSourceIps === undefined ? {} : { allowedSourceIps }),
    },
  ],
});

const problemsOf = (json: unknown) => {
  try {
    parseConfig(json);
  } catch (error) {
    return (error as ConfigError).details as { path: string; message: string }[];
  }
  throw new Error('expected a ConfigError');
};

describe('connections[].allowedSourceIps', () => {
  it('is optional, and kept as written when given', () => {
    expect(parseConfig(config(undefined)).connections[0]?.allowedSourceIps).toBeUndefined();
    const list = ['192.0.2.0/24', '2001:db8::/32', '203.0.113.7', '::ffff:198.51.100.0/120'];
    expect(parseConfig(config(list)).connections[0]?.allowedSourceIps).toEqual(list);
  });

  it('lists every entry that is not a network, with its path', () => {
    expect(
      problemsOf(config(['192.0.2.0/24', '192.0.2.1/24', '10.0.0.0/40', '1.2.3', 'fe80::1%eth0'])),
    ).toEqual([
      { path: '/connections/0/allowedSourceIps/4', message: expect.stringContaining('pattern') },
      {
        path: '/connections/0/allowedSourceIps/1',
        message: '"192.0.2.1/24" has bits set past its /24; the block is 192.0.2.0/24',
      },
      {
        path: '/connections/0/allowedSourceIps/2',
        message: '"10.0.0.0/40" has a prefix length over 32',
      },
      {
        path: '/connections/0/allowedSourceIps/3',
        message: '"1.2.3" is not an IPv4 or IPv6 address or CIDR block',
      },
    ]);
  });

  it('refuses an empty list (it would refuse every sender) and repeated entries', () => {
    expect(problemsOf(config([]))).toEqual([
      { path: '/connections/0/allowedSourceIps', message: expect.stringContaining('fewer than 1') },
    ]);
    expect(problemsOf(config(['::1', '::1']))).toEqual([
      { path: '/connections/0/allowedSourceIps', message: expect.stringContaining('duplicate') },
    ]);
  });
});
