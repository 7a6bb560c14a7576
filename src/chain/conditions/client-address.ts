/**
 * What kind of client a session's connection is, for the conditions that look at where the SMTP
 * client connects from (Remote Network, S25R's IPv4-only switch). Whether an address is in a set of
 * networks is mail/network-list.ts's job.
 */
import { isIP } from 'node:net';
import { isIpv4Mapped } from '../../config/cidr.js';
import type { ConnectionInfo } from '../../mail/connection.js';

/**
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, e.g. from a dual-stack listener) is an IPv4 client;
 * `address` is the address as the MTA reported it, without a zone id.
 */
export type ClientAddress =
  | { readonly kind: 'ipv4' | 'ipv6'; readonly address: string }
  | { readonly kind: 'unix' }
  | { readonly kind: 'unknown' };

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
      return { kind: 'ipv4', address };
    case 6:
      return { kind: isIpv4Mapped(address) ? 'ipv4' : 'ipv6', address };
    default:
      return { kind: 'unknown' };
  }
}
