/**
 * The client names found by client-name.ts, kept a short while per address, as the local caching
 * resolver a Postfix host is normally given would keep them (Postfix's smtpd has no cache of its own and
 * asks the resolver at every connection). Without it each connection costs a PTR query and a forward
 * getaddrinfo, the latter on libuv's small thread pool that the queue's file operations also wait on; a
 * client that sends many messages over short connections (as MTAs do) would pay both every time.
 * A confirmed name is kept 60 s, "no confirmed name" 10 s (a PTR record just fixed is seen soon), both far
 * below the TTLs DNS records usually carry; lookups of one address in flight at once are made only once.
 * Bounded: past `maxEntries` the oldest entry goes.
 */
import { BoundedMap } from '../mail/bounded-map.js';

export interface NameCacheOptions {
  /** Addresses kept at most (default 1000). */
  readonly maxEntries?: number;
  /** How long a confirmed name is kept (default 60 000 ms). */
  readonly ttlMs?: number;
  /** How long "no confirmed name" is kept (default 10 000 ms). */
  readonly negativeTtlMs?: number;
  /** The clock (tests give a fake). */
  readonly now?: () => number;
}

interface Entry {
  readonly name: Promise<string | undefined>;
  /** When the entry stops counting; Infinity while its lookup is in flight. */
  expires: number;
}

export class NameCache {
  private readonly entries: BoundedMap<string, Entry>;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly now: () => number;

  constructor(options: NameCacheOptions = {}) {
    this.entries = new BoundedMap(Math.max(1, options.maxEntries ?? 1000));
    this.ttlMs = options.ttlMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The name of `address`: the cached one while fresh, else `find(address)` (which must not reject). */
  lookup(address: string, find: (address: string) => Promise<string | undefined>): Promise<string | undefined> {
    const hit = this.entries.get(address);
    if (hit !== undefined && hit.expires > this.now()) return hit.name;
    if (hit !== undefined) this.entries.delete(address);
    const name = find(address).catch((): undefined => undefined);
    const entry: Entry = { name, expires: Infinity };
    this.entries.set(address, entry);
    void name.then((n) => {
      entry.expires = this.now() + (n === undefined ? this.negativeTtlMs : this.ttlMs);
    });
    return name;
  }
}
