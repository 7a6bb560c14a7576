/**
 * The addresses this MTA accepts mail on, for delivery's mail-loop check: the [smtp] and [submission]
 * listeners, a wildcard one (0.0.0.0, ::) standing for every address of every local interface, as Postfix's
 * inet_interfaces = all makes every interface address "myself".
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { ListenAddress } from '../config/schema.js';

type Interfaces = Record<string, NetworkInterfaceInfo[] | undefined>;

export function ownAddresses(listens: readonly ListenAddress[], interfaces: Interfaces = networkInterfaces()): ListenAddress[] {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const out: ListenAddress[] = [];
  for (const { host, port } of listens) {
    const bare = host.replace(/^\[|\]$/g, '');
    if (bare === '0.0.0.0' || bare === '' || bare === '*') {
      for (const i of all) if (i.family === 'IPv4') out.push({ host: i.address, port });
    } else if (bare === '::') {
      // A :: socket takes IPv4 connections too (dual stack, Node's default).
      for (const i of all) out.push({ host: i.address, port });
    } else if (bare.toLowerCase() === 'localhost') {
      out.push({ host: '127.0.0.1', port }, { host: '::1', port });
    } else {
      out.push({ host: bare, port });
    }
  }
  return out;
}
