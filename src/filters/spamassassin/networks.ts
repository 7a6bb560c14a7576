/** The networks whose clients are not scanned (spamass-milter -i): CIDRs or single addresses. */
import { BlockList, isIP } from 'node:net';

export interface NetworkList {
  has(address: string | undefined): boolean;
}

/** `cidrs` were checked by the config reader (src/config/cidr.ts); a bad one throws here. */
export function networkList(cidrs: readonly string[]): NetworkList {
  const list = new BlockList();
  for (const text of cidrs) {
    const [address = '', prefix] = text.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  const empty = cidrs.length === 0;
  return {
    has(address) {
      if (empty || address === undefined) return false;
      const family = isIP(address);
      if (family === 0) return false;
      if (list.check(address, family === 6 ? 'ipv6' : 'ipv4')) return true;
      // An IPv4 client on a dual-stack socket: ::ffff:192.0.2.1.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      return mapped !== null && list.check(mapped[1]!, 'ipv4');
    },
  };
}
