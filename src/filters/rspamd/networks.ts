/**
 * `skip_networks`: client networks whose mail is not scanned. IPv4 and IPv6 entries are kept in
 * separate BlockLists so that "::/0" never covers IPv4 clients; an IPv4-mapped IPv6 client
 * (::ffff:192.0.2.1) is matched as the IPv4 address it is.
 */
import { BlockList, isIP } from 'node:net';

export class ClientNetworks {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();
  readonly size: number;

  /** `specs` were checked by the config reader (cidrError). */
  constructor(specs: readonly string[]) {
    for (const spec of specs) {
      const [address = '', prefix] = spec.split('/');
      const family = isIP(address);
      if (family === 4) this.v4.addSubnet(address, prefix === undefined ? 32 : Number(prefix), 'ipv4');
      else if (family === 6) this.v6.addSubnet(address, prefix === undefined ? 128 : Number(prefix), 'ipv6');
    }
    this.size = specs.length;
  }

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
