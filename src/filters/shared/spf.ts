/**
 * SPF (RFC 7208) through mailauth, shared by the auth filter (which reports and may reject on it) and
 * the greylist filter (whose `spf` ACL clause tests it), so both see the same result for a session.
 */
import type { DnsResolver } from './dns.js';
import { timerDelay } from '../../config/timer-limit.js';

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
  /** The `Received-SPF:` header value (without the name), RFC 7208 §9.1 form, folded with a bare LF. */
  readonly receivedSpf: string;
  /** The domain checked. */
  readonly domain: string;
  /** The identity checked (`postmaster@HELO` for the null sender): `smtp.mailfrom` of Authentication-Results. */
  readonly mailFrom?: string;
  /** Why, in words (mailauth's comment: "mx.example: domain of a@b designates 192.0.2.1 as permitted sender"). */
  readonly comment?: string;
  /** The SPF record evaluated, when one was found (its `exp=` gives a fail's explanation). */
  readonly record?: string;
}

export type SpfChecker = (query: SpfQuery) => Promise<SpfOutcome>;

export interface SpfCheckerOptions {
  /** Our host name, in comments and `receiver=`; default os.hostname() (mailauth's). */
  readonly mta?: string;
  /** How long an answer is reused for the same ip/helo/sender; default 60 s. Temporary errors are not kept. */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Longest a whole check may take (all its DNS queries); then temperror. Default 20 s. */
  readonly timeoutMs?: number;
}

/**
 * mailauth's SPF module, imported at the first check: it costs ~20 MB of RSS, which a server whose
 * filters never ask about SPF (or that has no built-in filter) should not pay at start.
 */
let spfModule: Promise<typeof import('mailauth/lib/spf/index.js')> | undefined;
const loadSpf = () => (spfModule ??= import('mailauth/lib/spf/index.js'));

const RESULTS = new Set<string>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);

/**
 * A checker that remembers recent answers (per ip/helo/sender, for `ttlMs`), so two filters asking about
 * the same MAIL FROM cost one set of DNS queries. It never rejects: any failure is a `temperror` outcome.
 */
export function createSpfChecker(resolver: DnsResolver, options: SpfCheckerOptions = {}): SpfChecker {
  const ttl = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const cache = new Map<string, { at: number; outcome: Promise<SpfOutcome> }>();
  return (query) => {
    const key = `${query.ip}\u0000${query.helo}\u0000${query.sender}`;
    const hit = cache.get(key);
    const t = now();
    if (hit !== undefined && t - hit.at < ttl) return hit.outcome;
    if (cache.size > 10_000) cache.clear();
    const outcome = check(resolver, query, options.mta, timeoutMs);
    cache.set(key, { at: t, outcome });
    // A DNS hiccup should not stick for a minute: the next MAIL asks again.
    void outcome.then((o) => {
      if (o.result === 'temperror' && cache.get(key)?.outcome === outcome) cache.delete(key);
    });
    return outcome;
  };
}

async function check(resolver: DnsResolver, query: SpfQuery, mta: string | undefined, timeoutMs: number): Promise<SpfOutcome> {
  const mailFrom = query.sender === '' ? `postmaster@${query.helo}` : query.sender;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timerDelay(timeoutMs));
  });
  try {
    const { spf } = await loadSpf();
    const r = await Promise.race([
      spf({ sender: mailFrom, ip: query.ip, helo: query.helo, ...(mta === undefined ? {} : { mta }), resolver: resolver as never }),
      timeout,
    ]);
    if (r === 'timeout') return failed(query, mailFrom, mta, `no answer within ${timeoutMs} ms`);
    const raw = String(r.status.result).toLowerCase();
    const result: SpfResult = RESULTS.has(raw) ? (raw as SpfResult) : 'permerror';
    const comment = typeof r.status.comment === 'string' ? r.status.comment : '';
    return {
      result,
      receivedSpf: receivedSpfValue(result, comment, query, mailFrom, mta),
      domain: r.domain ?? domainOf(mailFrom),
      mailFrom,
      comment,
      ...(typeof r.rr === 'string' ? { record: r.rr } : {}),
    };
  } catch (err) {
    return failed(query, mailFrom, mta, (err as Error).message);
  } finally {
    clearTimeout(timer);
  }
}

function failed(query: SpfQuery, mailFrom: string, mta: string | undefined, why: string): SpfOutcome {
  const comment = `${mta ?? 'localhost'}: error in processing during lookup of ${mailFrom}: ${why}`;
  return {
    result: 'temperror',
    receivedSpf: receivedSpfValue('temperror', comment, query, mailFrom, mta),
    domain: domainOf(mailFrom),
    mailFrom,
    comment,
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * `pass (comment) client-ip=...; envelope-from="..."; helo=...; receiver=...;` (RFC 7208 §9.1). Values
 * that are not dot-atoms are quoted; the comment's parentheses and backslashes are escaped.
 */
export function receivedSpfValue(result: SpfResult, comment: string, query: SpfQuery, mailFrom: string, mta: string | undefined): string {
  const pairs = [
    ['client-ip', query.ip],
    ['envelope-from', mailFrom],
    ['helo', query.helo],
    ...(mta === undefined ? [] : [['receiver', mta]]),
  ].filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  const kv = pairs.map(([k, v]) => `${k}=${keyValue(v)};`).join(' ');
  const text = comment === '' ? result : `${result} (${escapeComment(comment)})`;
  return `${text}\n\t${kv}`;
}

function keyValue(v: string): string {
  // A dot-atom (RFC 5322) goes as it is; anything else quoted.
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/.test(v)) return v;
  if (/^[0-9a-fA-F:.]+$/.test(v)) return v; // an IPv6 address
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

/** Comment text safe inside `( )`: control characters become spaces, `\`, `(` and `)` are escaped. */
export function escapeComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[\\()]/g, (c) => `\\${c}`);
}
