/**
 * Host name lookups for connecting to remote milters, kept for a while. Node looks a name up
 * (getaddrinfo on the libuv thread pool) at every connect, and the manager connects to each child at
 * every SMTP session: a child written `inet:PORT@localhost` (how a detected rspamd is written) paid a
 * thread pool round trip per session, most of it on an isolated session (bench:manager's spaced mode).
 * milter-manager resolves a child's address once, when it reads its configuration; here an answer is
 * kept for TTL_MS, so a child that moves is found again within that time without a reload. Only
 * answers are kept, never failures; the answer is given as Node asked for it (its options are part
 * of the key), so connecting behaves as before (e.g. both families tried for `localhost`).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';

/** How long an answer is used, ms: short next to a configuration's life, long next to a session rate. */
export const TTL_MS = 60_000;

type Answer = string | LookupAddress[];
type Callback = (err: NodeJS.ErrnoException | null, address: Answer, family?: number) => void;
/** The shape of `net.connect`'s `lookup` option (dns.lookup's). */
export type LookupFunction = (hostname: string, options: LookupOptions, callback: Callback) => void;

interface Kept {
  readonly until: number;
  readonly address: Answer;
  readonly family: number | undefined;
}

/** A `lookup` for `net.connect` that asks `lookup` at most once per name and options per `ttlMs`. */
export function cachedLookup(lookup: LookupFunction = dnsLookup as LookupFunction, ttlMs = TTL_MS, now = () => performance.now()): LookupFunction {
  const kept = new Map<string, Kept>();
  return (hostname, options, callback) => {
    const key = `${hostname}\0${options.family ?? 0}\0${options.hints ?? 0}\0${options.all === true}\0${options.verbatim ?? ''}`;
    const hit = kept.get(key);
    if (hit !== undefined && hit.until > now()) {
      // Asynchronously, as dns.lookup answers: net.connect's callers expect it.
      process.nextTick(callback, null, Array.isArray(hit.address) ? hit.address.slice() : hit.address, hit.family);
      return;
    }
    lookup(hostname, options, (err, address, family) => {
      if (err) kept.delete(key);
      else kept.set(key, { until: now() + ttlMs, address, family });
      callback(err, address, family);
    });
  };
}

/** The one every remote milter connection uses. */
export const milterLookup: LookupFunction = cachedLookup();
