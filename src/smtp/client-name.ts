/**
 * The client's name as Postfix's smtpd finds it: the reverse (PTR) name counts only when that name resolves
 * forward to the same address (forward-confirmed reverse DNS); otherwise the client is "unknown". A PTR
 * record is the address owner's to write, so without the check a client could call itself any host in our
 * Received field, our logs and the chain's {client_name} (which conditions such as S25R read). Given to
 * smtp-server as its `resolver`; smtp-server bounds the whole lookup with its own timeout (1.5 s).
 * The forward check goes through the system's resolver (getaddrinfo: the hosts file, then DNS), as
 * Postfix's smtpd does: a name only in /etc/hosts (the machine's own, for loopback clients) is then
 * confirmed at once instead of waiting on a DNS server that does not know it (1 s retries under load).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { NameCache } from './name-cache.js';

export interface NameLookups {
  reverse(address: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** The default lookups: c-ares for PTR (it reads the hosts file too), getaddrinfo for the forward check. */
const systemLookups: NameLookups = {
  reverse: (address) => dns.reverse(address),
  resolve4: async (name) => (await dns.lookup(name, { family: 4, all: true })).map((a) => a.address),
  resolve6: async (name) => (await dns.lookup(name, { family: 6, all: true })).map((a) => a.address),
};

/** At most this many PTR names are tried (Postfix takes the first that verifies). */
const MAX_NAMES = 5;

/** The first reverse name of `address` that resolves back to it, or undefined. */
export async function confirmedName(address: string, lookups: NameLookups = systemLookups): Promise<string | undefined> {
  const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(ip);
  if (family === 0) return undefined;
  const names = await lookups.reverse(ip).catch((): string[] => []);
  const wanted = family === 6 ? canonicalV6(ip) : ip;
  for (const name of names.slice(0, MAX_NAMES)) {
    const forward = await (family === 4 ? lookups.resolve4(name) : lookups.resolve6(name)).catch((): string[] => []);
    if (forward.some((a) => (family === 6 ? canonicalV6(a) : a) === wanted)) return name.replace(/\.$/, '');
  }
  return undefined;
}

/** Compares IPv6 addresses whatever their spelling (zero compression, case). */
function canonicalV6(address: string): string {
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const parts = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = parts(head);
  const t = parts(tail);
  const full = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return full.map((p) => p.replace(/^0+(?=.)/, '')).join(':');
}

/**
 * smtp-server's `resolver` option: reverse() answers with the confirmed name, or no name; with a cache
 * (name-cache.ts), a name found a short while ago is not looked up again.
 */
export function confirmingResolver(
  lookups: NameLookups = systemLookups,
  cache?: NameCache,
): { reverse(address: string, callback: (err: Error | null, names?: string[]) => void): void } {
  const find = (address: string): Promise<string | undefined> => confirmedName(address, lookups);
  return {
    reverse(address, callback) {
      (cache ? cache.lookup(address, find) : find(address)).then(
        (name) => callback(null, name === undefined ? [] : [name]),
        () => callback(null, []),
      );
    },
  };
}
