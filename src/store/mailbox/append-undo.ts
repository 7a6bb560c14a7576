/**
 * An APPEND whose file is in cur/ but whose indexing failed (the uidlist unreadable or its lock not had, the
 * index's commit refused) removes the file before its NO, so the client's retry does not leave the message
 * twice — unless someone gave the file a UID meanwhile: a sync of another process (an index row) or Dovecot
 * (a uidlist line; the APPEND's own lines, written before a failed commit, do not count). The check and the
 * unlink are made under the uidlist's lock, under which alone UIDs are given, so no sync can be indexing the
 * file between them. When the lock cannot be had (the very failure that brought us here, often: a holder
 * that keeps it, EMFILE) the check is made without it and the file removed all the same: at worst a UID just
 * given by another process is expunged at its next sync, where keeping the file would add a copy at each of
 * the client's retries.
 */
import { unlink } from 'node:fs/promises';
import { lockUidlist, readUidlist } from '../maildir/uidlist.js';
import type { IndexDb } from './index-db.js';
import { messagePath } from './index-sync.js';

/** How long the undo waits for the lock before checking without it. */
const UNDO_LOCK_WAIT_MS = 5000;

/**
 * Removes the APPENDed file `fname` (in `dir`/cur/) unless it has a UID given by someone else; true when it
 * was removed. `ownLines`: bases whose uidlist lines the failed APPEND wrote itself (linesWithoutRows).
 */
export async function removeUnindexedAppend(
  db: IndexDb,
  mailboxId: number,
  dir: string,
  base: string,
  fname: string,
  ownLines: ReadonlySet<string> = new Set(),
): Promise<boolean> {
  const lock = await lockUidlist(dir, { timeoutMs: UNDO_LOCK_WAIT_MS }).catch(() => undefined);
  try {
    if (db.messageByBase.get(mailboxId, base) !== undefined) return false;
    // A file unreadable now (the failure that brought us here, likely) is judged by the index alone, which
    // every Mailgate process commits under this lock once the line is written.
    if (!ownLines.has(base)) {
      const listed = await readUidlist(dir).catch(() => undefined);
      if (listed?.records.some((r) => r.base === base) === true) return false;
    }
    await unlink(messagePath(dir, false, fname));
    return true;
  } catch {
    return false;
  } finally {
    await lock?.release().catch(() => undefined);
  }
}
