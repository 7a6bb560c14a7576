/**
 * Mail loop detection at the next hop, as Postfix's smtp(8) does: when the best MX host (or relay_host) is
 * one of our own listening addresses, sending there would hand the mail back to us, round after round; the
 * mail fails with 5.4.6 "mail for X loops back to myself". MX hosts less preferred than ourselves are not
 * tried either (RFC 5321 §5.1: they would send it back to us). Pure: the listening addresses come in as
 * IP address and port (cli/ expands 0.0.0.0 and :: to the interfaces' addresses).
 */
import { BlockList, isIP } from 'node:net';
import type { HopAddress } from './next-hop.js';

/** One address we accept mail on. A host that is not an IP address is not matched (names are not resolved). */
export interface OwnAddress {
  readonly host: string;
  readonly port: number;
}

/** Whether `address`:`port` is ours; IPv4-mapped IPv6 addresses match their IPv4 form. */
export type SelfCheck = (address: string, port: number) => boolean;

export function selfCheck(own: readonly OwnAddress[]): SelfCheck {
  const byPort = new Map<number, BlockList>();
  for (const { host, port } of own) {
    const ip = host.replace(/^\[|\]$/g, '');
    const family = isIP(ip);
    if (family === 0) continue;
    const list = byPort.get(port) ?? new BlockList();
    list.addAddress(ip, family === 6 ? 'ipv6' : 'ipv4');
    byPort.set(port, list);
  }
  return (address, port) => {
    const list = byPort.get(port);
    const family = isIP(address);
    return list !== undefined && family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * The hosts to try (in preference order) up to the first that is ourselves; an empty list when the best is
 * ourselves. (Hosts of equal preference come in random order: one after ourselves among them is dropped
 * too, where Postfix would drop it only when it ranks at or below us; a small loss, never a loop.)
 */
export function hostsBeforeSelf(hosts: readonly HopAddress[], isSelf: SelfCheck): HopAddress[] {
  const at = hosts.findIndex((h) => isSelf(h.address, h.port));
  return at === -1 ? [...hosts] : hosts.slice(0, at);
}
