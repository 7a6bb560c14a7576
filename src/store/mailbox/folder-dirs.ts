/**
 * Mailbox name ↔ Maildir++ directory, as Dovecot with `separator = /`, `listescape` and LAYOUT=maildir++
 * lays them out: INBOX is the Maildir itself, every other folder a direct child `.A.B` whose components are
 * modified UTF-7 then listescaped (`.` → `\2e`, so no component can hold the separator or be '.'/'..').
 * Every path is built from a validated name and checked to be a direct child of the root; a directory found
 * on disk is a folder only when it is a real directory (a symlink never is) and its name decodes to a valid
 * mailbox name. (A stand-in for the file layer's maildir-folders.ts, which was not on i11-maildir yet.)
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeFolderMutf7, encodeFolderMutf7 } from '../maildir/folder-mutf7.js';
import { escapeListComponent, unescapeListComponent } from '../maildir/listescape.js';
import { checkMailboxName } from '../maildir/mailbox-names.js';
import { fsyncDir, isDirectChild } from '../maildir/safe-fs.js';
import { MailboxError } from './mailbox-store.js';
import { mailboxNameProblem } from './name-rules.js';

export const INBOX = 'INBOX';

/** The canonical name ("inbox/x" → "INBOX/x") or MailboxError('CANNOT'). */
export function validName(name: string): string {
  const problem = mailboxNameProblem(name);
  if (problem !== undefined) throw new MailboxError('CANNOT', problem);
  const check = checkMailboxName(name);
  if (!check.ok) throw new MailboxError('CANNOT', check.reason);
  return check.name;
}

/** The directory of a canonical name: the root for INBOX, else `<root>/.<escaped components>`. */
export function folderDir(root: string, name: string): string {
  if (name === INBOX) return root;
  const dir = join(root, '.' + name.split('/').map((c) => escapeListComponent(encodeFolderMutf7(c))).join('.'));
  if (!isDirectChild(root, dir)) throw new MailboxError('CANNOT', 'Mailbox name does not make a folder directory');
  return dir;
}

/** The mailbox name of a root entry (".Sent", ".a\2eb.c"), or undefined when it is not a folder's name. */
export function folderNameOf(entry: string): string | undefined {
  if (!entry.startsWith('.') || entry === '.' || entry === '..') return undefined;
  try {
    const name = entry
      .slice(1)
      .split('.')
      .map((c) => decodeFolderMutf7(unescapeListComponent(c)))
      .join('/');
    const check = checkMailboxName(name);
    // Only the canonical spelling is a folder: ".inbox" and ".INBOX" must not both be INBOX's children.
    return check.ok && check.name === name && name !== INBOX && folderDirName(name) === entry ? name : undefined;
  } catch {
    return undefined;
  }
}

function folderDirName(name: string): string {
  return '.' + name.split('/').map((c) => escapeListComponent(encodeFolderMutf7(c))).join('.');
}

/** The folders on disk (INBOX not included): real directories only, symlinks and odd names skipped. */
export async function listFolderDirs(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const name = folderNameOf(entry.name);
    if (name !== undefined) names.push(name);
  }
  return names;
}

/**
 * Makes a folder's directory with cur/ new/ tmp/ and Dovecot's `maildirfolder` marker, durably. False
 * when the directory was already there.
 */
export async function makeFolderDir(root: string, name: string): Promise<boolean> {
  const dir = folderDir(root, name);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(dir, sub), { mode: 0o700 });
  await (await open(join(dir, 'maildirfolder'), constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)).close();
  await fsyncDir(dir);
  await fsyncDir(root);
  return true;
}
