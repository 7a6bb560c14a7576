/**
 * Networks as written in the configuration ("10.0.0.0/8", "fd00::/8", or a single address): checked
 * here, where the configuration is read, and parsed by the same code when mail/network-list.ts
 * builds a list from them, so a list never holds an entry the reader would have refused.
 */
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Whether an IPv6 address is IPv4-mapped (::ffff:a.b.c.d, in any spelling): an IPv4 client on a dual-stack socket. */
export function isIpv4Mapped(address: string): boolean {
  return isIP(address) === 6 && IPV4_MAPPED.check(address, 'ipv6');
}

/** Why a text names no network: `problem` follows the quoted text ("x" is ..., or "x": ...). */
export interface CidrProblem {
  readonly problem: string;
  /** The text is no IP address at all (not merely a bad prefix or a kind of address we refuse). */
  readonly notAnAddress: boolean;
}

/** The network `text` names, or why it names none. */
export function parseCidr(text: string): Cidr | CidrProblem {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  const problem = (why: string): CidrProblem => ({ problem: why, notAnAddress: false });
  if (version === 0) return { problem: 'is not an IP address or CIDR like 192.0.2.0/24', notAnAddress: true };
  if (address.includes('%')) return problem('a zone id (%...) names a link, not a network');
  // A mapped entry could never match: mapped clients are matched as IPv4, against the IPv4 entries.
  if (version === 6 && isIpv4Mapped(address)) return problem('write IPv4-mapped addresses as IPv4 (e.g. 192.0.2.0/24)');
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return problem(`prefix length "${prefixText}" is not a number from 0 to ${max}`);
    prefix = Number(prefixText);
  }
  try {
    new BlockList().addSubnet(address, prefix, family);
  } catch (err) {
    return problem((err as Error).message);
  }
  return { address, prefix, family };
}

/** Undefined when `text` is a valid address or CIDR; else why not, naming it. */
export function cidrError(text: string): string | undefined {
  const parsed = parseCidr(text);
  if (!('problem' in parsed)) return undefined;
  return `${JSON.stringify(text)}${parsed.notAnAddress ? ' ' : ': '}${parsed.problem}`;
}
