/**
 * clamav-milter's LocalNet: clients in these networks are not scanned. `local` stands for
 * connections without an IP address (unix socket, or an MTA that reports none, e.g. Postfix's
 * sendmail pickup shows up as "localhost" with no address).
 */
import { BlockList, isIP } from 'node:net';
import type { ConnectionInfo } from '../../mail/connection.js';

const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

export class LocalNet {
  private readonly v4 = new BlockList();
  private readonly v6 = new BlockList();
  private readonly local: boolean;
  readonly empty: boolean;

  /** `specs` were checked by the config reader: "local", addresses and CIDRs. */
  constructor(specs: readonly string[]) {
    this.local = specs.includes('local');
    this.empty = specs.length === 0;
    for (const spec of specs) {
      if (spec === 'local') continue;
      const [address = '', prefix] = spec.split('/');
      const family = isIP(address);
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (family === 4) this.v4.addSubnet(address, bits, 'ipv4');
      else this.v6.addSubnet(address, bits, 'ipv6');
    }
  }

  has(info: ConnectionInfo): boolean {
    const address = info.address?.replace(/%.*$/, '');
    if ((info.family !== 'inet' && info.family !== 'inet6') || address === undefined || address === '') return this.local;
    const family = isIP(address);
    if (family === 4) return this.v4.check(address, 'ipv4');
    if (family !== 6) return false;
    // An IPv4 client on a dual-stack listener (::ffff:a.b.c.d) is matched as IPv4 only (BlockList
    // checks IPv4 rules for mapped addresses); otherwise "::/0" would cover every IPv4 client.
    if (IPV4_MAPPED.check(address, 'ipv6')) return this.v4.check(address, 'ipv6');
    return this.v6.check(address, 'ipv6');
  }
}
