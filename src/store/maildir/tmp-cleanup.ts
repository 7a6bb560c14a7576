/**
 * Removing what an interrupted write left in a Maildir's tmp/: a message file whose delivery or APPEND
 * died between create and rename, a folder staged for CREATE or moved aside for DELETE (maildir-folders.ts)
 * by a process killed halfway. The Maildir convention (and Dovecot, at mailbox open, and Postfix's local
 * delivery) removes tmp/ entries untouched for 36 hours: nothing is written there for that long. Age is the
 * later of mtime and ctime: an APPEND sets its tmp/ file's mtime to the message's internal date (maybe
 * years ago) just before the rename, but that also sets its ctime to now, so a file in use is never old.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const TMP_MAX_AGE_MS = 36 * 3600_000;

/** Removes the entries of `<folder>/tmp` older than `maxAgeMs` (directories whole); how many. Never throws. */
export async function cleanTmp(folder: string, nowMs = Date.now(), maxAgeMs = TMP_MAX_AGE_MS): Promise<number> {
  const tmp = join(folder, 'tmp');
  let names: string[];
  try {
    names = await readdir(tmp);
  } catch {
    return 0; // No tmp/ (made when first written to), or not readable: nothing to do here.
  }
  let removed = 0;
  for (const name of names) {
    const path = join(tmp, name);
    try {
      const st = await lstat(path);
      if (Math.max(st.mtimeMs, st.ctimeMs) > nowMs - maxAgeMs) continue;
      // lstat and rm do not follow a symlink: only the link itself goes.
      await rm(path, { recursive: st.isDirectory(), force: true });
      removed++;
    } catch {
      // Gone meanwhile, or not removable: the next scan tries again.
    }
  }
  return removed;
}
