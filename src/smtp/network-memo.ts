/**
 * A network list (mynetworks, xclient_hosts, the plaintext-AUTH networks) with its answers kept per
 * client address: the lists are fixed for the server's life, and node's BlockList makes a SocketAddress
 * at each check, which costs more than a map lookup. Clients come back (an MTA sends many messages over
 * short connections), so every connection would ask again. Bounded: past `maxEntries` the oldest goes.
 */
import { BoundedMap } from '../mail/bounded-map.js';
import type { NetworkList } from '../mail/network-list.js';

export interface Networks {
  has(address: string | undefined): boolean;
}

export class MemoisedNetworks implements Networks {
  private readonly answers: BoundedMap<string, boolean>;

  constructor(
    private readonly list: NetworkList,
    maxEntries = 1000,
  ) {
    this.answers = new BoundedMap(maxEntries);
  }

  has(address: string | undefined): boolean {
    if (address === undefined || this.list.size === 0) return false;
    const hit = this.answers.get(address);
    if (hit !== undefined) return hit;
    const answer = this.list.has(address);
    this.answers.set(address, answer);
    return answer;
  }
}
