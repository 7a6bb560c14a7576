/**
 * An in-memory GreylistStore: tests, and `store = "memory"` for a single host that may forget its
 * greylist on restart (milter-greylist without a dump file). Entries are indexed by address too, so
 * lazyaw lookups and `--addr` queries do not scan everything.
 */
import type { GreylistEntry, GreylistQuery, GreylistStore, GreylistTuple } from './store.js';

const keyOf = (t: GreylistTuple): string => `${t.address}\u0000${t.sender}\u0000${t.recipient}`;

export class MemoryGreylistStore implements GreylistStore {
  private readonly entries = new Map<string, GreylistEntry>();
  private readonly byAddress = new Map<string, Set<string>>();

  async get(tuple: GreylistTuple, now: number): Promise<GreylistEntry | undefined> {
    const e = this.entries.get(keyOf(tuple));
    return e !== undefined && e.expires >= now ? e : undefined;
  }

  async getAutowhiteForAddress(address: string, now: number): Promise<GreylistEntry | undefined> {
    for (const key of this.byAddress.get(address) ?? []) {
      const e = this.entries.get(key);
      if (e !== undefined && e.kind === 'autowhite' && e.expires >= now) return e;
    }
    return undefined;
  }

  async put(entry: GreylistEntry): Promise<void> {
    const key = keyOf(entry);
    this.entries.set(key, { ...entry });
    let keys = this.byAddress.get(entry.address);
    if (keys === undefined) this.byAddress.set(entry.address, (keys = new Set()));
    keys.add(key);
  }

  async delete(tuple: GreylistTuple): Promise<void> {
    this.remove(keyOf(tuple), tuple.address);
  }

  async *list(query: GreylistQuery = {}): AsyncIterable<GreylistEntry> {
    for (const e of this.select(query)) yield e;
  }

  async flush(query: GreylistQuery = {}): Promise<number> {
    const gone = this.select(query);
    for (const e of gone) this.remove(keyOf(e), e.address);
    return gone.length;
  }

  async purgeExpired(now: number): Promise<number> {
    const gone = [...this.entries.values()].filter((e) => e.expires < now);
    for (const e of gone) this.remove(keyOf(e), e.address);
    return gone.length;
  }

  async count(query: GreylistQuery = {}): Promise<number> {
    return this.select(query).length;
  }

  async close(): Promise<void> {
    // nothing held
  }

  private select(query: GreylistQuery): GreylistEntry[] {
    const pool =
      query.address === undefined
        ? [...this.entries.values()]
        : [...(this.byAddress.get(query.address) ?? [])].flatMap((k) => {
            const e = this.entries.get(k);
            return e === undefined ? [] : [e];
          });
    return pool.filter((e) => query.kind === undefined || e.kind === query.kind);
  }

  private remove(key: string, address: string): void {
    this.entries.delete(key);
    const keys = this.byAddress.get(address);
    keys?.delete(key);
    if (keys?.size === 0) this.byAddress.delete(address);
  }
}
