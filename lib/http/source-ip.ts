// Per-connection source IP allow-lists. The check runs right after the connection is found and
// before anything reads a secret or the body, so a request from elsewhere costs one lookup, is
// answered 403 with a stable code, and is counted like every other refusal.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { AdapterError, ConfigError } from '../errors.ts';
import type { ConnectionOf, HttpContext, HttpMiddleware } from './middleware.ts';

/** One parsed allow-list entry: a network address and how many leading bits it fixes. */
export interface SourceIpRange {
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

const v4Bytes = (text: string): number[] => text.split('.').map(Number);

/** The 16 bytes of an IPv6 address that `isIPv6` accepted (`::` and an IPv4 tail included). */
const v6Bytes = (text: string): number[] => {
  let head = text;
  let tail: number[] = [];
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':') + 1;
    tail = v4Bytes(text.slice(cut));
    // The dotted tail stands for the last two groups: keep their place while the groups expand.
    head = `${text.slice(0, cut)}0:0`;
  }
  const groupsOf = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const [left = '', right] = head.split('::');
  const leading = groupsOf(left);
  const trailing = right === undefined ? [] : groupsOf(right);
  const zeros = right === undefined ? [] : new Array(8 - leading.length - trailing.length).fill(0);
  const bytes = [...leading, ...zeros, ...trailing].flatMap((group) => [group >> 8, group & 0xff]);
  return tail.length === 0 ? bytes : [...bytes.slice(0, 12), ...tail];
};

/** Whether any bit after the first `prefix` is set (the address is not the network's own). */
const hostBitsSet = (bytes: readonly number[], prefix: number): boolean =>
  bytes.some((byte, index) => {
    const kept = Math.min(8, Math.max(0, prefix - index * 8));
    return (byte & (0xff >> kept)) !== 0;
  });

/** The network `bytes` belong to at `prefix`, written back as text (for the error's hint). */
const networkOf = (family: SourceIpRange['family'], bytes: readonly number[], prefix: number) => {
  const masked = bytes.map((byte, index) => {
    const kept = Math.min(8, Math.max(0, prefix - index * 8));
    return byte & ~(0xff >> kept) & 0xff;
  });
  if (family === 'ipv4') return masked.join('.');
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push((((masked[index] ?? 0) << 8) | (masked[index + 1] ?? 0)).toString(16));
  }
  // The URL parser writes IPv6 hosts in their canonical, shortest form.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
};

/**
 * One allow-list entry: `192.0.2.0/24`, `2001:db8::/32`, or a bare address (one host). Throws an
 * Error saying what is wrong: an entry that is not an address, a prefix out of range, a zone
 * (`%eth0`, meaningless for a public sender), or bits set past the prefix, which usually means a
 * typo in the prefix and is refused rather than silently widened or narrowed.
 */
export const parseSourceIpRange = (entry: string): SourceIpRange => {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const prefixText = slash === -1 ? undefined : entry.slice(slash + 1);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : '';
  if (family === '') {
    throw new Error(`"${entry}" is not an IPv4 or IPv6 address or CIDR block`);
  }
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) {
    throw new Error(`"${entry}" has a prefix length that is not a number`);
  }
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) {
    throw new Error(`"${entry}" has a prefix length over ${bits}`);
  }
  const bytes = family === 'ipv4' ? v4Bytes(address) : v6Bytes(address);
  if (hostBitsSet(bytes, prefix)) {
    throw new Error(
      `"${entry}" has bits set past its /${prefix}; the block is ${networkOf(family, bytes, prefix)}/${prefix}`,
    );
  }
  return { family, address, prefix };
};

/** Whether a source IP may call a connection. */
export interface SourceIpAllowList {
  allows(sourceIp: string): boolean;
}

/**
 * Compiles a connection's `allowedSourceIps` once, at cold start. IPv4 rules also match the
 * IPv4-mapped IPv6 form of their addresses (`::ffff:192.0.2.1`), as a dual-stack listener reports
 * them; anything that is not an address (an empty or garbled source IP) is refused.
 */
export const compileAllowList = (entries: readonly string[]): SourceIpAllowList => {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseSourceIpRange(entry);
    list.addSubnet(range.address, range.prefix, range.family);
  }
  return {
    allows: (sourceIp) => {
      if (isIPv4(sourceIp)) return list.check(sourceIp, 'ipv4');
      if (isIPv6(sourceIp) && !sourceIp.includes('%')) return list.check(sourceIp, 'ipv6');
      return false;
    },
  };
};

/**
 * Refuses requests to a connection with `allowedSourceIps` unless API Gateway's source IP
 * (`requestContext.http.sourceIp`, the TCP peer, never a header the caller writes) is in the list.
 * Placed right after the connection middleware. Every list is compiled here, when the chain is
 * built at cold start; one that does not compile fails the cold start, naming its connection.
 * `onRefused` hears the refused address (for the log line the error middleware writes).
 */
export const sourceIpMiddleware = <Ctx extends HttpContext<unknown>>(
  connections: ReadonlyMap<string, ConnectionOf<Ctx>>,
  allowedOf: (connection: ConnectionOf<Ctx>) => readonly string[] | undefined,
  onRefused: (sourceIp: string) => void = () => {},
): HttpMiddleware<Ctx> => {
  const lists = new Map<ConnectionOf<Ctx>, SourceIpAllowList>();
  const problems: string[] = [];
  for (const [id, connection] of connections) {
    const entries = allowedOf(connection);
    if (entries === undefined) continue;
    try {
      lists.set(connection, compileAllowList(entries));
    } catch (error) {
      problems.push(`${id}: allowedSourceIps ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid connections:\n- ${problems.join('\n- ')}`, {
      details: problems,
    });
  }
  return {
    name: 'source-ip',
    before: function sourceIpBefore(request) {
      const connection = request.context.connection as ConnectionOf<Ctx> | undefined;
      if (connection === undefined) {
        throw new AdapterError('INTERNAL', 'The source IP check ran before the connection lookup');
      }
      const list = lists.get(connection);
      if (list === undefined) return;
      const sourceIp = request.event.requestContext?.http?.sourceIp ?? '';
      if (list.allows(sourceIp)) return;
      onRefused(sourceIp);
      throw new AdapterError(
        'SOURCE_IP_NOT_ALLOWED',
        'Requests from this address are not accepted for this connection',
      );
    },
  };
};
