/**
 * `mailgate greylist --addr`: an IP or a CIDR network, parsed. Apart from admin.ts so that the command line
 * can be read without loading the store drivers (ioredis, better-sqlite3) that every `mailgate` command would
 * otherwise carry.
 */
import { BlockList, isIP } from 'node:net';
import { cidrError } from '../../config/cidr.js';
import { maskAddress } from './tuple.js';

/** `--addr`: an IP (the entries that apply to that client, whatever the mask) or a CIDR network. */
export type AddressFilter =
  | { readonly kind: 'ip'; readonly ip: string; readonly candidates: readonly string[] }
  | { readonly kind: 'cidr'; readonly text: string; readonly range: BlockList; readonly network: string; readonly family: 'ipv4' | 'ipv6' };

/** Throws a RangeError saying why `text` is neither an IP nor a CIDR. */
export function parseAddressFilter(text: string): AddressFilter {
  const why = cidrError(text);
  if (why !== undefined) throw new RangeError(why);
  if (!text.includes('/')) {
    // The store keeps addresses masked by subnetmatch/subnetmatch6 ("192.0.2.0/24", or the bare
    // address for /32 and /128): every possible mask of this IP names the entries that apply to it.
    const max = isIP(text) === 4 ? 32 : 128;
    const candidates = new Set<string>();
    for (let bits = 0; bits <= max; bits++) candidates.add(maskAddress(text, bits, bits));
    return { kind: 'ip', ip: text, candidates: [...candidates] };
  }
  const [network = '', bits = ''] = text.split('/');
  const family = isIP(network) === 4 ? 'ipv4' : 'ipv6';
  const range = new BlockList();
  range.addSubnet(network, Number(bits), family);
  return { kind: 'cidr', text, range, network, family };
}
