/**
 * Recording given UIDs in a folder's dovecot-uidlist. The index is the truth for UIDs and commits first;
 * the uidlist is the copy Dovecot reads (and a lost index is rebuilt from). So a uidlist that cannot be
 * appended to once the index has committed (a full disk, an I/O error, a file someone broke) must not fail
 * the operation — the message is in and has its UID, and a NO would make the client or the queue store it
 * twice. The file is rewritten whole from the index instead (under the same lock, atomically); when that
 * fails too, the folder is marked in the index (a restart remembers it) and rewritten at its next sync or
 * its next new message. Dovecot does the same with a uidlist it cannot use: it recreates it.
 */
import { lockUidlist, newMailboxGuid, readUidlist, type Uidlist, type UidlistLock, type UidlistRecord } from '../maildir/uidlist.js';
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

/** Whether the folder's uidlist is known to be behind the index. */
export function uidlistIsStale(db: IndexDb, mailboxId: number): boolean {
  return staleOf(db).has(mailboxId);
}

/**
 * Appends `records` (just committed to the index) under `lock`; on failure, or when the file is already
 * known to be behind, rewrites it whole. Never throws: the index has the UIDs whatever happens here.
 */
export async function recordUids(lock: UidlistLock, db: IndexDb, mailboxId: number, records: readonly UidlistRecord[]): Promise<void> {
  if (!staleOf(db).has(mailboxId)) {
    try {
      await lock.append(records);
      return;
    } catch (err) {
      // ENOENT: removed meanwhile; anything else: the file or the disk is in trouble. Either way, rewrite.
      return rewriteAfterAppend(lock, db, mailboxId, err);
    }
  }
  await rewriteFromIndex(lock, db, mailboxId);
}

/**
 * Rewrites the uidlist whole from the index after an append of lines already committed there failed
 * (`err`), or when it is known to be behind (no `err`): an append may have left a partial line, which a
 * second append would glue to the next record, breaking the file for Dovecot.
 */
export async function rewriteAfterAppend(lock: UidlistLock, db: IndexDb, mailboxId: number, err?: unknown): Promise<void> {
  if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'ENOENT') warn(db, lock.dir, `appending to it failed (${String(err)}); rewriting it from the index`);
  await rewriteFromIndex(lock, db, mailboxId);
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
 * The whole file from the index. What the old file holds is kept where the index does not contradict it:
 * its header (GUID, other fields), each record's extension fields (a POP3 UIDL carried over from another
 * server), and records of files this index has not seen yet (another process's) whose UID it does not use —
 * all only when the file has the index's UIDVALIDITY.
 */
async function rewriteFromIndex(lock: UidlistLock, db: IndexDb, mailboxId: number): Promise<void> {
  const row = db.mailboxById.get(mailboxId);
  if (row === undefined) return;
  try {
    const old: Uidlist | undefined = await readUidlist(lock.dir).catch(() => undefined);
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
    const sameValidity = old !== undefined && old.header.uidValidity === row.uidvalidity;
    // Another UIDVALIDITY's UIDs mean nothing under this one: not kept.
    if (sameValidity) for (const r of old.records) if (!bases.has(r.base) && !uids.has(r.uid)) records.push(r);
    await lock.rewrite({
      header: {
        uidValidity: row.uidvalidity,
        nextUid: row.uidnext,
        guid: sameValidity ? (old.header.guid ?? newMailboxGuid()) : newMailboxGuid(),
        extra: sameValidity ? old.header.extra : [],
      },
      records,
    });
    mark(db, mailboxId, false);
  } catch (err) {
    mark(db, mailboxId, true);
    warn(db, lock.dir, `rewriting it failed (${String(err)}); it is rewritten at the folder's next sync`);
  }
}

function warn(db: IndexDb, dir: string, what: string): void {
  uidlistWarnings.get(db)?.(`dovecot-uidlist of ${dir}: ${what}`);
}
