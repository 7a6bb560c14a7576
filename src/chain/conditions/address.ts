/**
 * Client address classification and address sets for the conditions that look at where the SMTP
 * client connects from (Remote Network, S25R's IPv4-only switch). Matching uses node:net's BlockList.
 */
import { BlockList, isIP } from 'node:net';
import type { ConnectionInfo } from '../../mail/connection.js';

/**
 * What kind of client this is. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, e.g. from a dual-stack
 * listener) is an IPv4 client: it is reported as 'ipv4' with `blockFamily` 'ipv6', which BlockList
 * checks against IPv4 rules itself.
 */
export type ClientAddress =
  | { readonly kind: 'ipv4'; readonly address: string; readonly blockFamily: 'ipv4' | 'ipv6' }
  | { readonly kind: 'ipv6'; readonly address: string }
  | { readonly kind: 'unix' }
  | { readonly kind: 'unknown' };

const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

function isIpv4Mapped(address: string): boolean {
  return IPV4_MAPPED.check(address, 'ipv6');
}

/** Drops an IPv6 zone id ("fe80::1%eth0"); it says which link, not which address. */
function withoutZone(address: string): string {
  const i = address.indexOf('%');
  return i === -1 ? address : address.slice(0, i);
}

/**
 * Classifies the client from the address the MTA reported. The address text decides between IPv4
 * and IPv6 (not the family field), so an MTA that says inet6 for a mapped IPv4 client is handled.
 * inet/inet6 without a parseable address is 'unknown'.
 */
export function classifyClient(connection: ConnectionInfo | undefined): ClientAddress {
  if (!connection) return { kind: 'unknown' };
  if (connection.family === 'unix') return { kind: 'unix' };
  if (connection.family !== 'inet' && connection.family !== 'inet6') return { kind: 'unknown' };
  if (connection.address === undefined) return { kind: 'unknown' };
  const address = withoutZone(connection.address.trim());
  switch (isIP(address)) {
    case 4:
      return { kind: 'ipv4', address, blockFamily: 'ipv4' };
    case 6:
      return isIpv4Mapped(address)
        ? { kind: 'ipv4', address, blockFamily: 'ipv6' }
        : { kind: 'ipv6', address };
    default:
      return { kind: 'unknown' };
  }
}

/**
 * A set of IPv4 and IPv6 networks. IPv4 and IPv6 entries are kept apart so that an IPv6 entry such as
 * "::/0" never matches IPv4 clients (BlockList alone would let it cover ::ffff:0:0/96).
 */
export class AddressSet {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();

  constructor(specs: readonly string[] = []) {
    for (const spec of specs) this.add(spec);
  }

  /** Adds "address" or "address/prefix"; throws on anything else. */
  add(spec: string): void {
    const text = typeof spec === 'string' ? spec.trim() : '';
    const slash = text.indexOf('/');
    const address = slash === -1 ? text : text.slice(0, slash);
    const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
    const version = isIP(address);
    const bits = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (version === 0 || address.includes('%') || !(prefix >= 0 && prefix <= bits)) {
      throw new Error(`invalid address or CIDR "${String(spec)}" (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)`);
    }
    if (version === 6 && isIpv4Mapped(address)) {
      // Mapped clients are matched as IPv4 against the IPv4 entries only; say so instead of never matching.
      throw new Error(`invalid address or CIDR "${spec}": write IPv4-mapped addresses as IPv4 (e.g. 192.0.2.0/24)`);
    }
    if (version === 4) this.v4.addSubnet(address, prefix, 'ipv4');
    else this.v6.addSubnet(address, prefix, 'ipv6');
  }

  has(client: ClientAddress): boolean {
    if (client.kind === 'ipv4') return this.v4.check(client.address, client.blockFamily);
    if (client.kind === 'ipv6') return this.v6.check(client.address, 'ipv6');
    return false;
  }
}
