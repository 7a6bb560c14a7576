/**
 * clamav-milter's LocalNet: clients in these networks are not scanned. `local` stands for
 * connections without an IP address (unix socket, or an MTA that reports none, e.g. Postfix's
 * sendmail pickup shows up as "localhost" with no address).
 */
import type { ConnectionInfo } from '../../mail/connection.js';
import { NetworkList } from '../../mail/network-list.js';

export class LocalNet {
  private readonly networks: NetworkList;
  private readonly local: boolean;
  readonly empty: boolean;

  /** `specs` were checked by the config reader: "local", addresses and CIDRs. */
  constructor(specs: readonly string[]) {
    this.local = specs.includes('local');
    this.empty = specs.length === 0;
    this.networks = new NetworkList(specs.filter((s) => s !== 'local'));
  }

  has(info: ConnectionInfo): boolean {
    if ((info.family !== 'inet' && info.family !== 'inet6') || info.address === undefined || info.address === '') return this.local;
    return this.networks.has(info.address);
  }
}
