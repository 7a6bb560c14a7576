/**
 * From a destination to the addresses to try, RFC 5321 §5.1: MX records by preference (equal ones in random
 * order), each exchange's A then AAAA addresses; no MX records at all → the domain's own A/AAAA (the implicit
 * MX); a null MX (RFC 7505, `0 .`) → the domain takes no mail, a permanent failure. DNS answers that may
 * change (SERVFAIL, timeouts) defer; names that do not exist fail, as Postfix does.
 */
import { isIP } from 'node:net';

/** Where to send: a host with MX lookup (a domain, relay_host "host"), or without ("[host]", an address). */
export interface NextHop {
  readonly host: string;
  /** undefined: the default SMTP port. */
  readonly port?: number;
  readonly mx: boolean;
}

/** The part of node:dns's promises Resolver used here (tests may pass their own). */
export interface MxResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

/** One address to try: the host's name (for the log and TLS), its address and the port. */
export interface HopAddress {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export type Route =
  | { readonly kind: 'hosts'; readonly hosts: readonly HopAddress[] }
  | { readonly kind: 'error'; readonly status: 'deferred' | 'failed'; readonly enhanced: string; readonly diagnostic: string };

/** Postfix's smtp_mx_address_limit: at most this many addresses are tried for one delivery. */
export const MX_ADDRESS_LIMIT = 5;

/** A name that does not exist, or exists without records of the type: permanent, as far as DNS goes. */
const isHardDnsError = (err: unknown): boolean => ['ENOTFOUND', 'ENODATA'].includes((err as { code?: string }).code ?? '');

const dnsError = (err: unknown, name: string, type: string): Route => {
  const code = (err as { code?: string }).code ?? 'EUNKNOWN';
  return isHardDnsError(err)
    ? { kind: 'error', status: 'failed', enhanced: '5.4.4', diagnostic: `Host or domain name not found. Name service error for name=${name} type=${type}: Host not found` }
    : {
        kind: 'error',
        status: 'deferred',
        enhanced: '4.4.3',
        diagnostic: `Host or domain name not found. Name service error for name=${name} type=${type}: Host not found, try again (${code})`,
      };
};

/** The A then AAAA addresses of a name; an error Route when it has neither. */
async function addressesOf(resolver: MxResolver, name: string): Promise<string[] | Route> {
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  if (found.length > 0) return found;
  // A temporary error on either type may be hiding an address: defer rather than fail.
  const soft = [v4, v6].find((r) => r.status === 'rejected' && !isHardDnsError(r.reason));
  if (soft?.status === 'rejected') return dnsError(soft.reason, name, soft === v4 ? 'A' : 'AAAA');
  return dnsError(v4.status === 'rejected' ? v4.reason : Object.assign(new Error(), { code: 'ENODATA' }), name, 'A');
}

/** Equal preferences in random order (RFC 5321 §5.1), lower preference first. */
function orderMx<T extends { priority: number }>(records: readonly T[], random: () => number): T[] {
  const keyed = records.map((r) => ({ r, k: random() }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || a.k - b.k);
  return keyed.map((x) => x.r);
}

/** The addresses to try for `hop`, in order, at most MX_ADDRESS_LIMIT. */
export async function resolveRoute(hop: NextHop, defaultPort: number, resolver: MxResolver, random: () => number = Math.random): Promise<Route> {
  const port = hop.port ?? defaultPort;
  const name = hop.host.replace(/\.$/, '');
  if (isIP(name) !== 0) return { kind: 'hosts', hosts: [{ name, address: name, port }] };
  const hostsOf = (host: string, addresses: readonly string[]): HopAddress[] => addresses.map((address) => ({ name: host, address, port }));
  if (!hop.mx) {
    const addresses = await addressesOf(resolver, name);
    return Array.isArray(addresses) ? { kind: 'hosts', hosts: hostsOf(name, addresses).slice(0, MX_ADDRESS_LIMIT) } : addresses;
  }
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await resolver.resolveMx(name);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENODATA') return dnsError(err, name, 'MX');
    mx = [];
  }
  if (mx.some((r) => r.exchange === '' || r.exchange === '.')) {
    return { kind: 'error', status: 'failed', enhanced: '5.1.10', diagnostic: `Domain ${name} does not accept mail (nullMX)` };
  }
  if (mx.length === 0) {
    // RFC 5321 §5.1: no MX records, the domain itself is the implicit MX.
    const addresses = await addressesOf(resolver, name);
    return Array.isArray(addresses) ? { kind: 'hosts', hosts: hostsOf(name, addresses).slice(0, MX_ADDRESS_LIMIT) } : addresses;
  }
  const ordered = orderMx(mx, random);
  const lookups = await Promise.all(ordered.map((r) => addressesOf(resolver, r.exchange.replace(/\.$/, ''))));
  const hosts: HopAddress[] = [];
  const errors: Route[] = [];
  ordered.forEach((r, i) => {
    const found = lookups[i];
    if (Array.isArray(found)) hosts.push(...hostsOf(r.exchange.replace(/\.$/, ''), found));
    else if (found !== undefined) errors.push(found);
  });
  if (hosts.length > 0) return { kind: 'hosts', hosts: hosts.slice(0, MX_ADDRESS_LIMIT) };
  return errors.find((e) => e.kind === 'error' && e.status === 'deferred') ?? errors[0] ?? dnsError(undefined, name, 'MX');
}
