/**
 * The Maildir store's side of SEARCH's header cache (Mailbox.meta kinds `header:<field>`): one row per
 * message and field in `header_cache`, keyed (mailbox, field, uid) so that a search reads one field of a
 * whole batch of messages with one range scan instead of a lookup per message. `header_field` lists the
 * fields a mailbox has rows for, so the trigger that drops a message's rows when it is expunged finds
 * them by key (index-db.ts).
 */
import type { IndexDb } from './index-db.js';

/** The records of `field` for `uids` (absent ones are not in the map). */
export function headerRecords(db: IndexDb, mailbox: number, field: string, uids: readonly number[]): Map<number, string> {
  const out = new Map<number, string>();
  if (uids.length === 0) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (const uid of uids) {
    if (uid < lo) lo = uid;
    if (uid > hi) hi = uid;
  }
  // a sparse set (a few UIDs far apart) is read one by one rather than by scanning the gaps
  if (hi - lo >= 4 * uids.length + 64) {
    for (const uid of uids) {
      const value = db.headerOf.get(mailbox, field, uid);
      if (value !== undefined) out.set(uid, value);
    }
    return out;
  }
  const wanted = new Set(uids);
  for (const [uid, value] of db.headerRange.all(mailbox, field, lo, hi)) if (wanted.has(uid)) out.set(uid, value);
  return out;
}

/** Stores records of `field`; those of messages no longer there are dropped (nothing would remove them later). */
export function saveHeaderRecords(db: IndexDb, mailbox: number, field: string, entries: ReadonlyMap<number, string>): void {
  if (entries.size === 0) return;
  db.write(() => {
    db.addHeaderField.run(mailbox, field);
    for (const [uid, value] of entries) if (db.hasMessage.get(mailbox, uid) !== undefined) db.putHeader.run(mailbox, field, uid, value);
  });
}
