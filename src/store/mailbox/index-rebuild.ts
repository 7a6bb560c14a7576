/**
 * Opening a user's index, rebuilding it when it is lost or unusable. A missing file is simply made; a file
 * SQLite cannot open or whose quick_check fails (truncated, overwritten, a newer schema) is set aside as
 * `mailgate-index.sqlite.broken` and a fresh one made. A fresh index holds nothing but is complete once the
 * folders are seen again: each folder's row takes its UIDVALIDITY, next UID and message UIDs from the
 * folder's dovecot-uidlist (index-sync.ts ensureMailboxRow), and only a folder whose uidlist is lost too gets
 * a new UIDVALIDITY, strictly greater than any the user's folders had (dovecot-uidvalidity). MODSEQs of a
 * row rebuilt from a uidlist start at the current time in microseconds, so they never go backwards for a
 * CONDSTORE client; a folder with a new UIDVALIDITY starts at 1.
 */
import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { INDEX_FILE, openIndexDb, type IndexDb } from './index-db.js';

export async function openOrRebuildIndex(root: string, log?: (line: string) => void): Promise<IndexDb> {
  try {
    return openIndexDb(root);
  } catch (err) {
    const path = join(root, INDEX_FILE);
    log?.(`mailbox index ${path} is unusable (${(err as Error).message}); rebuilding it from the Maildir`);
    await rename(path, `${path}.broken`).catch(() => undefined);
    for (const suffix of ['-wal', '-shm']) await unlink(path + suffix).catch(() => undefined);
    return openIndexDb(root);
  }
}
