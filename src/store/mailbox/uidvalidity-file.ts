/**
 * Dovecot's `dovecot-uidvalidity` in the Maildir root: the last UIDVALIDITY given to any of the user's
 * folders, in hex. Kept so that a folder whose index row and dovecot-uidlist are both lost gets a
 * UIDVALIDITY strictly greater than any it had — several folders made in one second get consecutive values
 * ahead of the clock, so the time alone would not do — and so that Dovecot, run on the same Maildir, does not
 * hand out one of ours again (it reads and advances the same file).
 */
import { constants } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../maildir/safe-fs.js';

export const UIDVALIDITY_FILE = 'dovecot-uidvalidity';

/** The last value, 0 when the file is missing or not hex. */
export async function readLastUidValidity(root: string): Promise<number> {
  try {
    const text = (await readFile(join(root, UIDVALIDITY_FILE), 'utf8')).trim();
    return /^[0-9a-f]{1,8}$/i.test(text) ? parseInt(text, 16) : 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** Replaces the file (temp file, fsync, rename, fsync of the root) with `value`. */
export async function writeLastUidValidity(root: string, value: number): Promise<void> {
  const temp = join(root, 'tmp', `${UIDVALIDITY_FILE}.${process.pid}.${Date.now()}`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.write(value.toString(16).padStart(8, '0'));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(root, UIDVALIDITY_FILE));
  await fsyncDir(root);
}
