/**
 * An APPEND whose file is in cur/ but whose indexing failed (the uidlist could not be read under its lock)
 * removes the file before its NO, so the client's retry does not leave the message twice — unless someone
 * gave the file a UID meanwhile: a sync of another process (an index row) or Dovecot (a uidlist line). The
 * check and the unlink are made under the uidlist's lock, under which alone UIDs are given, so no sync can
 * be indexing the file between them (outside it, one could give it a UID just before it was removed).
 */
import { unlink } from 'node:fs/promises';
import { lockUidlist, readUidlist } from '../maildir/uidlist.js';
import type { IndexDb } from './index-db.js';
import { messagePath } from './index-sync.js';

/** How long the undo waits for the lock; past it the file stays and the next sync indexes it (a copy twice at worst). */
const UNDO_LOCK_WAIT_MS = 5000;

/** Removes the APPENDed file `fname` (in `dir`/cur/) unless it has a UID; true when it was removed. */
export async function removeUnindexedAppend(db: IndexDb, mailboxId: number, dir: string, base: string, fname: string): Promise<boolean> {
  let lock;
  try {
    lock = await lockUidlist(dir, { timeoutMs: UNDO_LOCK_WAIT_MS });
  } catch {
    return false;
  }
  try {
    if (db.messageByBase.get(mailboxId, base) !== undefined) return false;
    // A file unreadable now (the failure that brought us here, likely) is judged by the index alone, which
    // every Mailgate process commits under this lock once the line is written.
    const listed = await readUidlist(dir).catch(() => undefined);
    if (listed?.records.some((r) => r.base === base) === true) return false;
    await unlink(messagePath(dir, false, fname));
    return true;
  } catch {
    return false;
  } finally {
    await lock.release().catch(() => undefined);
  }
}
