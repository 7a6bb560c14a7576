/**
 * A set of client networks ("192.0.2.0/24", "2001:db8::/32", single addresses) for the filters'
 * skip and sign lists. IPv4 and IPv6 entries are kept apart so that "::/0" never covers IPv4 clients;
 * an IPv4-mapped IPv6 client (::ffff:192.0.2.1, from a dual-stack listener) is matched as the IPv4
 * address it is. Entries are expected checked already (src/config/cidr.ts); a bad one throws here.
 */
import { BlockList, isIP } from 'node:net';

export class NetworkList {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();
  readonly size: number;

  constructor(specs: readonly string[]) {
    for (const spec of specs) {
      const [address = '', prefix] = spec.split('/');
      const family = isIP(address);
      if (family === 4) this.v4.addSubnet(address, prefix === undefined ? 32 : Number(prefix), 'ipv4');
      else if (family === 6) this.v6.addSubnet(address, prefix === undefined ? 128 : Number(prefix), 'ipv6');
      else throw new RangeError(`${JSON.stringify(spec)} is not an IP address or CIDR`);
    }
    this.size = specs.length;
  }

  /** Whether `address` (bare, "[...]", "IPv6:..." or with a zone id) is in one of the networks. */
  has(address: string | undefined): boolean {
    if (address === undefined || this.size === 0) return false;
    const bare = address.replace(/^\[|\]$/g, '').replace(/^ipv6:/i, '').replace(/%.*$/, '');
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    const ip = mapped ? mapped[1]! : bare;
    switch (isIP(ip)) {
      case 4:
        return this.v4.check(ip, 'ipv4');
      case 6:
        return this.v6.check(ip, 'ipv6');
      default:
        return false;
    }
  }
}
