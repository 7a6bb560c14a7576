/**
 * What failed logins are counted against: the client's address, except that an IPv6 client counts as its
 * /48 network. One host gets a /64 at least (often a /56 or /48), so it could rotate through 2^64 addresses
 * and never be slowed down; Dovecot's auth penalty masks IPv6 addresses to 48 bits for the same reason
 * (auth-penalty.c, PENALTY_IPV6_MASK_BITS). An IPv4 client on a dual-stack socket (::ffff:a.b.c.d) is its
 * IPv4 address. Anything that is no IP address (a unix socket's peer) is its own key.
 */
import { isIP } from 'node:net';

const IPV6_PENALTY_GROUPS = 3; // 48 bits

export function penaltyKey(address: string): string {
  const ip = address
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/^ipv6:/i, '')
    .replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6) return address;
  const groups = ipv6Groups(ip);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6] as number, groups[7] as number];
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, IPV6_PENALTY_GROUPS)
    .map((g) => g.toString(16))
    .join(':')}::/48`;
}

/** The eight 16-bit groups of a valid IPv6 address (isIP said so): "::" expanded, an IPv4 tail converted. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const double = text.indexOf('::');
  const part = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = part(double === -1 ? text : text.slice(0, double));
  const tail = double === -1 ? [] : part(text.slice(double + 2));
  const zeros = double === -1 ? [] : Array.from({ length: 8 - head.length - tail.length }, () => '0');
  return [...head, ...zeros, ...tail].map((g) => parseInt(g, 16));
}
