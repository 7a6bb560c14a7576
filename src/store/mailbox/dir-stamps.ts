/**
 * Directory stamps: how the index remembers what new/ and cur/ looked like at the last scan (the mtime in
 * nanoseconds, marked '*' when it was within Dovecot's 2-second dirty window then, which means "read it
 * again next time"), and how the store's own file operations keep those stamps trusted so that only other
 * processes' changes cost a rescan.
 */
import { dirState, type DirState } from '../maildir/maildir-scan.js';
import type { IndexDb } from './index-db.js';

/** A stored stamp still describes the directory: the same mtime, and it was not dirty when stored. */
export function same(stored: string | null, now: string | null): boolean {
  return stored?.endsWith('*') !== true && stored === clean(now);
}

export function clean(stamp: string | null): string | null {
  return stamp?.endsWith('*') === true ? stamp.slice(0, -1) : stamp;
}

/** `after`'s mtime with `scanned`'s dirty mark. */
export function carryMark(scanned: string | null, after: string | null): string | null {
  const mtime = clean(after);
  return mtime === null || scanned?.endsWith('*') !== true ? mtime : `${mtime}*`;
}

/**
 * Runs `op` — file operations of this process in one folder, with their index transaction — and keeps the
 * index's directory stamps trusted across it: when the directories were as the index last saw them, the
 * stamps after `op` are recorded as seen, so the next sync does not rescan a directory only this process
 * changed (a 100,000-message cur/ costs about a second to read). A change another process makes in the
 * same directory while `op` runs is then seen at that directory's next change; the window is `op` itself.
 */
export async function ownChange<T>(db: IndexDb, mailboxId: number, dir: string, op: () => Promise<T>): Promise<T> {
  const before = db.mailboxById.get(mailboxId);
  const now = Date.now();
  const [n, c] = await Promise.all([dirState(dir, 'new', now), dirState(dir, 'cur', now)]);
  const trusted =
    before !== undefined && before.scanned_at !== null && before.new_mtime === clean(stamp(n)) && before.cur_mtime === clean(stamp(c));
  const result = await op();
  if (trusted) {
    const later = Date.now();
    const [n2, c2] = await Promise.all([dirState(dir, 'new', later), dirState(dir, 'cur', later)]);
    const after = db.mailboxById.get(mailboxId);
    // new/ is trusted only when `op` left it as it was: when it moved, by us or by another program's delivery
    // during `op` (Dovecot's LDA, a second Mailgate), it is read again at the next sync, or that message
    // would hide behind our own stamp until new/ changed again (found by the review). new/ is small, so
    // reading it again is cheap. cur/, which can hold 100,000 files, stays trusted: a flag rename by another
    // IMAP server in that window is seen at cur/'s next change.
    const newStamp = clean(stamp(n2));
    const newMoved = newStamp !== clean(stamp(n));
    if (after !== undefined) db.setMailboxScan.run(newMoved && newStamp !== null ? `${newStamp}*` : newStamp, clean(stamp(c2)), after.scanned_at, mailboxId);
  }
  return result;
}

/**
 * Runs `moves` (this process's renames from new/ to cur/ during a sync) and gives the stamps to store for
 * the sync's scan (`newS`, `curS`): our own moves must not make the next sync read cur/ again, so when the
 * directories were still as scanned just before them, the stamps after them are kept (with the scan's dirty
 * marks); otherwise the scan's.
 */
export async function stampsAcrossMoves(
  dir: string,
  newS: string | null,
  curS: string | null,
  moves: () => Promise<void>,
): Promise<{ storeNew: string | null; storeCur: string | null }> {
  const pre = Date.now();
  const [n0, c0] = await Promise.all([dirState(dir, 'new', pre), dirState(dir, 'cur', pre)]);
  await moves();
  if (clean(stamp(n0)) !== clean(newS) || clean(stamp(c0)) !== clean(curS)) return { storeNew: newS, storeCur: curS };
  const post = Date.now();
  const [n1, c1] = await Promise.all([dirState(dir, 'new', post), dirState(dir, 'cur', post)]);
  return { storeNew: carryMark(newS, stamp(n1)), storeCur: carryMark(curS, stamp(c1)) };
}

/** A directory's state as the index keeps it: the mtime, marked when it was dirty (so never "unchanged"). */
export function stamp(state: DirState | undefined): string | null {
  return state === undefined ? null : `${state.mtimeNs}${state.dirty ? '*' : ''}`;
}

