/**
 * Answers of the accounts database kept while it is unchanged: SMTP asks at each RCPT whether the domain
 * is local and where the address goes (two to four queries), delivery asks again, each query a read
 * transaction with its file locks. Whether the database changed is asked of SQLite (PRAGMA data_version,
 * which moves when another process, such as `mailgate domain add`, commits) once per synchronous run of
 * code: the lookups of one RCPT share one check, and a change committed before a command arrives is seen
 * by that command. The owner clears the cache after its own writes (data_version does not move for them)
 * and reads around it inside a transaction. Bounded: past `maxEntries` per kind the oldest answer goes.
 */
import { BoundedMap } from '../../mail/bounded-map.js';

export class LookupCache {
  private version: number | undefined;
  private checked = false;
  private readonly maps: Map<string, unknown>[] = [];

  constructor(
    /** The database's data_version now. */
    private readonly currentVersion: () => number,
    /**
     * Per kind. Unknown names are cached too (a dictionary attack on RCPT is all unknown names), so the
     * bound is what keeps such an attack to a few hundred KiB until the next accounts change.
     */
    private readonly maxEntries = 2_000,
  ) {}

  /** A map of one kind of answer (domain, user, alias targets). */
  kind<T>(): (key: string, load: (key: string) => T) => T {
    const map = new BoundedMap<string, T>(this.maxEntries);
    this.maps.push(map as Map<string, unknown>);
    return (key, load) => {
      this.check();
      const hit = map.get(key);
      if (hit !== undefined || map.has(key)) return hit as T;
      const value = load(key);
      map.set(key, value);
      return value;
    };
  }

  /** Forgets every answer (after a write of our own). */
  clear(): void {
    for (const m of this.maps) m.clear();
  }

  private check(): void {
    if (this.checked) return;
    const v = this.currentVersion();
    if (v !== this.version) {
      this.clear();
      this.version = v;
    }
    this.checked = true;
    queueMicrotask(() => {
      this.checked = false;
    });
  }
}
