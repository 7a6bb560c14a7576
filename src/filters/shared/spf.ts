/**
 * SPF (RFC 7208) through mailauth, shared by the auth filter (which reports and may reject on it) and
 * the greylist filter (whose `spf` ACL clause tests it), so both see the same result for a session.
 */
import { spf } from 'mailauth/lib/spf/index.js';
import type { DnsResolver } from './dns.js';

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface SpfQuery {
  /** Client address. */
  readonly ip: string;
  /** HELO/EHLO name. */
  readonly helo: string;
  /** MAIL FROM address without angle brackets; '' for the null sender (then postmaster@HELO is checked). */
  readonly sender: string;
}

export interface SpfOutcome {
  readonly result: SpfResult;
  /** The `Received-SPF:` header value mailauth produced (without the name). */
  readonly receivedSpf: string;
  /** The domain checked. */
  readonly domain: string;
}

export type SpfChecker = (query: SpfQuery) => Promise<SpfOutcome>;

const RESULTS = new Set<string>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);

/**
 * A checker that remembers recent answers (per ip/helo/sender, for `ttlMs`), so two filters asking about
 * the same MAIL FROM cost one set of DNS queries.
 */
export function createSpfChecker(resolver: DnsResolver, options: { mta?: string; ttlMs?: number; now?: () => number } = {}): SpfChecker {
  const ttl = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; outcome: Promise<SpfOutcome> }>();
  return (query) => {
    const key = `${query.ip}\u0000${query.helo}\u0000${query.sender}`;
    const hit = cache.get(key);
    const t = now();
    if (hit !== undefined && t - hit.at < ttl) return hit.outcome;
    if (cache.size > 10_000) cache.clear();
    const outcome = check(resolver, query, options.mta);
    cache.set(key, { at: t, outcome });
    return outcome;
  };
}

async function check(resolver: DnsResolver, query: SpfQuery, mta: string | undefined): Promise<SpfOutcome> {
  const r = await spf({
    sender: query.sender === '' ? `postmaster@${query.helo}` : query.sender,
    ip: query.ip,
    helo: query.helo,
    ...(mta === undefined ? {} : { mta }),
    resolver: resolver as never,
  });
  const result = String(r.status.result).toLowerCase();
  return {
    result: RESULTS.has(result) ? (result as SpfResult) : 'permerror',
    receivedSpf: (r.header ?? '').replace(/^Received-SPF:\s*/i, '').trim(),
    domain: r.domain ?? '',
  };
}
