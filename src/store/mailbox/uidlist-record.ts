/**
 * Recording given UIDs in a folder's dovecot-uidlist, before the index commits them (Dovecot's order: the
 * uidlist, which Dovecot reads, never lags behind a UID anyone may have seen). A uidlist that cannot be
 * appended to (a full disk, an I/O error, a file someone broke) is rewritten whole, atomically, from the
 * index plus the new lines; when that fails too, the UIDs are still given — the message file is in place, and
 * a NO would make the queue store it twice — and the folder is marked in the index, in the transaction that
 * writes the rows (a restart remembers it), and rewritten at its next sync or its next new message. Dovecot
 * does the same with a uidlist it cannot use: it recreates it.
 */
import { UidlistError, lockUidlist, newMailboxGuid, readUidlist, type Uidlist, type UidlistLock, type UidlistRecord } from '../maildir/uidlist.js';
import { DotlockLostError } from '../maildir/dotlock.js';
import type { IndexDb } from './index-db.js';

const STALE_KEY = 'uidlist_stale';

/** Folders (mailbox ids) whose uidlist is behind the index, per index; loaded from the meta row once. */
const staleByDb = new WeakMap<IndexDb, Set<number>>();

/** Where a failed rewrite is told (the store's logger, set when the user's index is opened). */
export const uidlistWarnings = new WeakMap<IndexDb, (line: string) => void>();

function staleOf(db: IndexDb): Set<number> {
  let set = staleByDb.get(db);
  if (set === undefined) {
    const raw = db.meta(STALE_KEY);
    set = new Set(raw === undefined || raw === '' ? [] : raw.split(' ').map(Number).filter((n) => Number.isInteger(n) && n > 0));
    staleByDb.set(db, set);
  }
  return set;
}

function mark(db: IndexDb, mailboxId: number, stale: boolean): void {
  const set = staleOf(db);
  if (set.has(mailboxId) === stale) return;
  if (stale) set.add(mailboxId);
  else set.delete(mailboxId);
  try {
    db.setMeta.run(STALE_KEY, [...set].join(' '));
  } catch {
    // Kept in memory at least: this process still repairs it.
  }
}

/**
 * Marks the folder's uidlist as behind the index, called inside the transaction that makes it so: written
 * whatever the memory says (an earlier mark may have failed to reach the file), and a failure fails that
 * transaction, so rows are never committed without their mark.
 */
export function markUidlistStale(db: IndexDb, mailboxId: number): void {
  const set = staleOf(db);
  set.add(mailboxId);
  db.setMeta.run(STALE_KEY, [...set].join(' '));
}

/** Whether the folder's uidlist is known to be behind the index. */
export function uidlistIsStale(db: IndexDb, mailboxId: number): boolean {
  return staleOf(db).has(mailboxId);
}

/**
 * Appends `records` (UIDs about to be committed to the index) under `lock`, fsynced; on failure, when the
 * file is known to be behind, or with `rewrite` (a broken file, one of another UIDVALIDITY), writes it whole
 * from the index plus `records` instead (which lets the lock go). False when even that failed: the caller
 * commits with the folder marked (commitPlanned's `behind`). Throws only DotlockLostError (the lock was
 * taken over as stale): nothing is then to be committed.
 */
export async function recordUids(lock: UidlistLock, db: IndexDb, mailboxId: number, records: readonly UidlistRecord[], rewrite = false): Promise<boolean> {
  if (!rewrite && !staleOf(db).has(mailboxId)) {
    try {
      await lock.append(records);
      return true;
    } catch (err) {
      // The lock taken over as stale: another writer may be giving these UIDs; the step fails uncommitted.
      if (err instanceof DotlockLostError) throw err;
      // ENOENT: removed meanwhile; anything else: the file or the disk is in trouble. Either way, rewrite.
      return rewriteAfterAppend(lock, db, mailboxId, err, records);
    }
  }
  return rewriteFromIndex(lock, db, mailboxId, records);
}

/**
 * Rewrites the uidlist whole from the index after an append of lines already committed there failed
 * (`err`), or when it is known to be behind (no `err`): an append may have left a partial line, which a
 * second append would glue to the next record, breaking the file for Dovecot.
 */
export async function rewriteAfterAppend(lock: UidlistLock, db: IndexDb, mailboxId: number, err?: unknown, extra: readonly UidlistRecord[] = []): Promise<boolean> {
  if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'ENOENT') warn(db, lock.dir, `appending to it failed (${String(err)}); rewriting it from the index`);
  return rewriteFromIndex(lock, db, mailboxId, extra);
}

/** At a folder's sync: a uidlist left behind by a failed write is rewritten (cheap when none is). */
export async function repairUidlist(db: IndexDb, dir: string, mailboxId: number): Promise<void> {
  if (!staleOf(db).has(mailboxId)) return;
  let lock: UidlistLock;
  try {
    // Briefly: a sync must not wait the lock's full 30 s for a repair that can wait for the next one.
    lock = await lockUidlist(dir, { timeoutMs: 2000 });
  } catch {
    return; // Another process holds it: the next sync tries again.
  }
  try {
    await rewriteFromIndex(lock, db, mailboxId);
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/**
 * The whole file from the index and `extra` (lines given but not committed yet); true when written. What the
 * old file holds is kept where the index does not contradict it: its header (GUID, other fields), each
 * record's extension fields (a POP3 UIDL carried over from another server), and records of files this index
 * has not seen yet (another process's) whose UID it does not use — all only when the file has the index's
 * UIDVALIDITY. Only a missing or broken old file counts as none: one that cannot be read now (EMFILE, EIO)
 * may hold UIDs Dovecot gave, which a rewrite without them would let it give again; the folder stays marked.
 */
async function rewriteFromIndex(lock: UidlistLock, db: IndexDb, mailboxId: number, extra: readonly UidlistRecord[] = []): Promise<boolean> {
  const row = db.mailboxById.get(mailboxId);
  if (row === undefined) return true;
  try {
    const old: Uidlist | undefined = await readUidlist(lock.dir).catch((err: unknown) => {
      if (err instanceof UidlistError) return undefined;
      throw err;
    });
    const oldByBase = new Map(old?.records.map((r) => [r.base, r] as const));
    const records: UidlistRecord[] = [];
    const uids = new Set<number>();
    const bases = new Set<string>();
    for (const m of db.messages.all(mailboxId)) {
      const before = oldByBase.get(m.base);
      records.push({ uid: m.uid, base: m.base, extensions: before !== undefined && before.uid === m.uid ? before.extensions : [] });
      uids.add(m.uid);
      bases.add(m.base);
    }
    for (const r of extra) {
      if (bases.has(r.base) || uids.has(r.uid)) continue;
      records.push(r);
      uids.add(r.uid);
      bases.add(r.base);
    }
    const sameValidity = old !== undefined && old.header.uidValidity === row.uidvalidity;
    // Another UIDVALIDITY's UIDs mean nothing under this one: not kept.
    if (sameValidity) for (const r of old.records) if (!bases.has(r.base) && !uids.has(r.uid)) records.push(r);
    await lock.rewrite({
      header: {
        uidValidity: row.uidvalidity,
        // never below what the old file or these lines promise: the index's next UID was read before the
        // lines' rows are committed, and Dovecot may have given (then expunged) UIDs above the last line
        nextUid: extra.reduce((n, r) => Math.max(n, r.uid + 1), Math.max(row.uidnext, sameValidity ? old.nextUid : 0)),
        guid: sameValidity ? (old.header.guid ?? newMailboxGuid()) : newMailboxGuid(),
        extra: sameValidity ? old.header.extra : [],
      },
      records,
    });
    mark(db, mailboxId, false);
    return true;
  } catch (err) {
    // Lines not committed yet under a lock that is no longer ours: the step must fail, not commit them.
    if (err instanceof DotlockLostError && extra.length > 0) throw err;
    mark(db, mailboxId, true);
    warn(db, lock.dir, `rewriting it failed (${String(err)}); it is rewritten at the folder's next sync`);
    return false;
  }
}

function warn(db: IndexDb, dir: string, what: string): void {
  uidlistWarnings.get(db)?.(`dovecot-uidlist of ${dir}: ${what}`);
}
