/**
 * A list of networks ("192.0.2.0/24", "2001:db8::/32", single addresses), asked whether a client
 * address is in one of them: the manager's Remote Network condition, the filters' skip and sign
 * lists, and the MTA's relay networks all use this one. IPv4 and IPv6 entries are kept apart so that
 * "::/0" never covers IPv4 clients; an IPv4-mapped IPv6 client (::ffff:192.0.2.1 or ::ffff:c000:201,
 * from a dual-stack listener) is matched as the IPv4 address it is. Entries are parsed by the
 * configuration's own checker (config/cidr.ts), so a bad one throws here as it is refused there.
 */
import { BlockList, isIP } from 'node:net';
import { isIpv4Mapped, parseCidr } from '../config/cidr.js';

export class NetworkList {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();
  readonly size: number;

  /** Entries may have whitespace around them; a bad entry throws a RangeError naming it. */
  constructor(specs: readonly string[]) {
    for (const spec of specs) {
      const text = typeof spec === 'string' ? spec.trim() : String(spec);
      const parsed = parseCidr(text);
      if ('problem' in parsed) throw new RangeError(`invalid address or CIDR ${JSON.stringify(text)}: ${parsed.problem.replace(/^is /, '')}`);
      (parsed.family === 'ipv4' ? this.v4 : this.v6).addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = specs.length;
  }

  /** Whether `address` (bare, "[...]", "IPv6:..." or with a zone id) is in one of the networks; anything else is not. */
  has(address: string | undefined): boolean {
    if (address === undefined || this.size === 0) return false;
    const ip = address
      .trim()
      .replace(/^\[|\]$/g, '')
      .replace(/^ipv6:/i, '')
      .replace(/%.*$/, '');
    switch (isIP(ip)) {
      case 4:
        return this.v4.check(ip, 'ipv4');
      case 6:
        // BlockList matches a mapped address against IPv4 rules when asked with family ipv6.
        return isIpv4Mapped(ip) ? this.v4.check(ip, 'ipv6') : this.v6.check(ip, 'ipv6');
      default:
        return false;
    }
  }
}
