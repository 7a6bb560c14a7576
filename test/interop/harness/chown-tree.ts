/**
 * Hands a directory tree to Debian's `mail` user (8:8): Dovecot refuses to open mail as root, so the tests
 * that let a private Dovecot read a Maildir give it away first.
 */
import { chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const MAIL_UID = 8;

export async function chownTree(path: string, uid = MAIL_UID): Promise<void> {
  await chown(path, uid, uid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(p, uid);
    else await chown(p, uid, uid);
  }
}
