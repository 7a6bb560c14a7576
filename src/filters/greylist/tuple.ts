/**
 * The greylisted tuple as milter-greylist builds it: the client address masked by subnetmatch /
 * subnetmatch6 (IPv4-mapped IPv6 counts as IPv4), the sender with spaces removed and everything up
 * to the last "=" dropped (so BATV/SRS/VERP senders that change per attempt still match), and the
 * recipient, both without angle brackets and lowercased (the store compares them exactly).
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { GreylistTuple } from '../../store/greylist/store.js';

/** "192.0.2.0/24" for 192.0.2.77 with /24; the address alone when the mask keeps every bit. */
export function maskAddress(address: string, v4Bits: number, v6Bits: number): string {
  const v4 = asIPv4(address);
  if (v4 !== undefined) {
    if (v4Bits >= 32) return v4;
    const n = v4.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    const block = 2 ** (32 - v4Bits);
    const masked = Math.floor(n / block) * block;
    return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${v4Bits}`;
  }
  if (!isIPv6(address)) return address;
  const words = ipv6Words(address);
  if (v6Bits >= 128) return formatIPv6(words);
  let big = words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
  big = v6Bits === 0 ? 0n : (big >> BigInt(128 - v6Bits)) << BigInt(128 - v6Bits);
  const out: number[] = [];
  for (let i = 7; i >= 0; i--) out.push(Number((big >> BigInt(i * 16)) & 0xffffn));
  return `${formatIPv6(out)}/${v6Bits}`;
}

/** The IPv4 address, also when written IPv4-mapped (::ffff:192.0.2.1). */
export function asIPv4(address: string): string | undefined {
  if (isIPv4(address)) return address;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m !== null && isIPv4(m[1] as string) ? m[1] : undefined;
}

function ipv6Words(address: string): number[] {
  let text = address.split('%')[0] as string;
  // A trailing dotted quad (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) is two hex words.
  text = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${(Number(a) * 256 + Number(b)).toString(16)}:${(Number(c) * 256 + Number(d)).toString(16)}`,
  );
  const [head = '', rest] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = rest === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(Math.max(0, fill)).fill(0), ...right].slice(0, 8);
}

/** RFC 5952 text: lowercase, longest run of zero words (two or more) as "::". */
function formatIPv6(words: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** An envelope address without brackets or spaces: "<A@Example.COM>" → "A@Example.COM". */
export function bareAddress(address: string): string {
  let s = address.replace(/\s+/g, '');
  if (s.startsWith('<')) s = s.slice(1);
  if (s.endsWith('>')) s = s.slice(0, -1);
  return s;
}

/** The sender as the tuple keeps it: after the last "=", lowercased ('' for the null sender). */
export function tupleSender(sender: string): string {
  const bare = bareAddress(sender);
  const eq = bare.lastIndexOf('=');
  return (eq === -1 ? bare : bare.slice(eq + 1)).toLowerCase();
}

export function makeTuple(address: string, sender: string, recipient: string, v4Bits: number, v6Bits: number): GreylistTuple {
  return {
    address: maskAddress(address, v4Bits, v6Bits),
    sender: tupleSender(sender),
    recipient: bareAddress(recipient).toLowerCase(),
  };
}
