/**
 * The Maildir store's table for the derived data SEARCH reads for a whole batch of messages at once
 * (Mailbox.meta kinds 'search', 'layout' and `header:<field>`): one row per message and kind in `search_cache`,
 * keyed (mailbox, kind, uid) so that a batch is one range scan instead of a lookup per message, and
 * without reading the large rows of other kinds (message_meta's structures) on the way.
 * `search_cache_kind` lists the kinds a mailbox has rows of, so the trigger that drops a message's rows
 * when it is expunged finds them by key (index-db.ts).
 */
import { denseRange } from './uid-range.js';
import type { IndexDb } from './index-db.js';
import type { MetaKind } from './mailbox-store.js';

/** Whether a kind is kept here rather than in message_meta: SEARCH's summaries, layouts and header records. */
export function bulkKind(kind: MetaKind): boolean {
  return kind === 'search' || kind === 'layout' || kind.startsWith('header:');
}

/** The records of `kind` for `uids` (absent ones are not in the map). */
export function cachedRecords(db: IndexDb, mailbox: number, kind: string, uids: readonly number[]): Map<number, string> {
  const out = new Map<number, string>();
  const range = denseRange(uids);
  // a sparse set (a few UIDs far apart) is read one by one rather than by scanning the gaps
  if (range === undefined) {
    for (const uid of uids) {
      const value = db.cacheOf.get(mailbox, kind, uid);
      if (value !== undefined) out.set(uid, value);
    }
    return out;
  }
  const wanted = new Set(uids);
  for (const [uid, value] of db.cacheRange.all(mailbox, kind, range[0], range[1])) if (wanted.has(uid)) out.set(uid, value);
  return out;
}

/** Stores records of `kind`; those of messages no longer there are dropped (nothing would remove them later). */
export function saveCachedRecords(db: IndexDb, mailbox: number, kind: string, entries: ReadonlyMap<number, string>): void {
  if (entries.size === 0) return;
  db.write(() => {
    db.addCacheKind.run(mailbox, kind);
    for (const [uid, value] of entries) if (db.hasMessage.get(mailbox, uid) !== undefined) db.putCache.run(mailbox, kind, uid, value);
  });
}

/**
 * Mailbox.metaContaining over this table: SQLite's instr finds the records (compared as UTF-8, which a JS
 * substring test agrees with for a text without surrogates; the caller checks what it gets anyway), and
 * the UIDs without a record come from the keys alone. Another kind falls back to reading every record.
 */
export function cachedRecordsContaining(
  db: IndexDb,
  mailbox: number,
  kind: string,
  uids: readonly number[],
  text: string,
): { found: Map<number, string>; missing: number[] } {
  const found = new Map<number, string>();
  const missing: number[] = [];
  if (uids.length === 0) return { found, missing };
  const range = denseRange(uids);
  if (range === undefined || /[\ud800-\udfff]/.test(text)) {
    const all = cachedRecords(db, mailbox, kind, uids);
    for (const uid of uids) {
      const value = all.get(uid);
      if (value === undefined) missing.push(uid);
      else if (value.includes(text)) found.set(uid, value);
    }
    return { found, missing };
  }
  const wanted = new Set(uids);
  for (const [uid, value] of db.cacheRangeContaining.all(mailbox, kind, range[0], range[1], text)) if (wanted.has(uid)) found.set(uid, value);
  const present = new Set(db.cacheRangeUids.all(mailbox, kind, range[0], range[1]));
  for (const uid of uids) if (!present.has(uid)) missing.push(uid);
  return { found, missing };
}
