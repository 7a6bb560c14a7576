/**
 * A user's folders in Maildir++ layout: INBOX is the Maildir root, every other mailbox is a directory
 * directly in it named '.' + its levels joined by '.', each level mUTF-7-encoded and escaped as Dovecot's
 * listescape plugin does ("Archive.2024/Q1" → `.Archive\2e2024.Q1`), so Dovecot configured with
 * `separator = /` and `mail_plugins = listescape` sees the same names. A parent need not have a directory
 * of its own (Dovecot lists it \Noselect). Every path is built from a validated name and checked to be a
 * direct child of the root; a folder is a real directory (lstat: a symlink is never one).
 *
 * What this layer does not decide (the store's job): INBOX rename semantics, whether a folder with
 * children may be deleted, subscriptions, and the index.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeFolderMutf7, encodeFolderMutf7 } from './folder-mutf7.js';
import { escapeListComponent, unescapeListComponent } from './listescape.js';
import { checkMailboxName, isSameOrUnder, MAILBOX_SEPARATOR } from './mailbox-names.js';
import { fsyncDir, isDirectChild, lstatOrUndefined } from './safe-fs.js';

/** Dovecot's marker file in every Maildir++ folder (Courier's convention: the folder is not a root). */
export const MAILDIRFOLDER_FILE = 'maildirfolder';
export const MAILDIR_SUBDIRS = ['cur', 'new', 'tmp'] as const;

export type FolderErrorCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'CANNOT';

/** A refusal the store maps to the same-named IMAP response code (MailboxError). */
export class FolderError extends Error {
  constructor(
    readonly code: FolderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'FolderError';
  }
}

/** The validated canonical name, or FolderError('CANNOT', reason). */
function canonical(name: string): { name: string; components: readonly string[] } {
  const check = checkMailboxName(name);
  if (!check.ok) throw new FolderError('CANNOT', check.reason);
  return check;
}

/**
 * The directory name of a mailbox other than INBOX (`.Sent`, `.Archive\2e2024.Q1`). Throws FolderError
 * ('CANNOT') for an invalid name and for INBOX itself (the root, not a directory of its own).
 */
export function folderDirName(name: string): string {
  const { name: canon, components } = canonical(name);
  if (canon === 'INBOX') throw new FolderError('CANNOT', 'INBOX is the Maildir itself');
  return '.' + components.map((c) => escapeListComponent(encodeFolderMutf7(c))).join('.');
}

/**
 * The mailbox name of a directory entry in the root, or undefined when it is not a folder name: not
 * starting with '.', a level that does not decode, or a name that is not the canonical spelling of what it
 * decodes to (".inbox.x" when "INBOX/x" is `.INBOX.x`), so each mailbox has exactly one directory.
 */
export function mailboxNameOfDir(dirName: string): string | undefined {
  if (!dirName.startsWith('.') || dirName === '.' || dirName === '..') return undefined;
  try {
    const name = dirName
      .slice(1)
      .split('.')
      .map((l) => decodeFolderMutf7(unescapeListComponent(l)))
      .join(MAILBOX_SEPARATOR);
    const check = checkMailboxName(name);
    if (!check.ok || check.name === 'INBOX' || folderDirName(check.name) !== dirName) return undefined;
    return check.name;
  } catch {
    return undefined;
  }
}

/** Why mailboxNameOfDir refused a directory (for a log line). */
function whyNotFolder(dirName: string): string {
  try {
    const name = dirName.slice(1).split('.').map((l) => decodeFolderMutf7(unescapeListComponent(l))).join(MAILBOX_SEPARATOR);
    const check = checkMailboxName(name);
    return check.ok ? 'not the canonical directory of its name' : check.reason;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The directory of a mailbox: the root for INBOX, else root + folderDirName, checked to be a direct child. */
export function folderPath(root: string, name: string): string {
  const { name: canon } = canonical(name);
  if (canon === 'INBOX') return root;
  const path = join(root, folderDirName(canon));
  if (!isDirectChild(root, path)) throw new FolderError('CANNOT', `"${name}" does not map to a folder of this Maildir`);
  return path;
}

export interface FolderEntry {
  /** Canonical Unicode name, '/'-separated. */
  readonly name: string;
  /** The directory's name in the root. */
  readonly dirName: string;
  readonly path: string;
}

export interface ListFoldersOptions {
  /** Hears of each dot-entry of the root that is not listed, and why (a symlink, a foreign name...). */
  readonly onSkip?: (dirName: string, reason: string) => void;
}

/**
 * The folders of the Maildir at `root` (INBOX not included: it always exists), sorted by name. Only real
 * directories whose names are canonical folder names are listed; parents without a directory are not (the
 * store derives them from their children's names).
 */
export async function listFolders(root: string, options: ListFoldersOptions = {}): Promise<FolderEntry[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const folders: FolderEntry[] = [];
  for (const entry of entries) {
    const dirName = entry.name;
    if (!dirName.startsWith('.') || dirName === '.' || dirName === '..') continue;
    const path = join(root, dirName);
    // d_type may be unknown on some file systems: lstat decides, and a symlink is never a folder.
    const st = entry.isSymbolicLink() ? undefined : await lstatOrUndefined(path);
    if (st === undefined || !st.isDirectory()) {
      if (entry.isSymbolicLink() || st !== undefined) options.onSkip?.(dirName, entry.isSymbolicLink() || st?.isSymbolicLink() === true ? 'a symlink' : 'not a directory');
      continue;
    }
    const name = mailboxNameOfDir(dirName);
    if (name === undefined) {
      options.onSkip?.(dirName, whyNotFolder(dirName));
      continue;
    }
    folders.push({ name, dirName, path });
  }
  return folders.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** True when the mailbox's directory exists as a real directory (INBOX: the root). */
export async function folderExists(root: string, name: string): Promise<boolean> {
  return (await lstatOrUndefined(folderPath(root, name)))?.isDirectory() === true;
}

/**
 * The path of an existing folder, the way to open one: undefined when the name is invalid or its
 * directory is missing or not a real directory (a symlink to another Maildir is never opened).
 */
export async function existingFolderPath(root: string, name: string): Promise<string | undefined> {
  let path: string;
  try {
    path = folderPath(root, name);
  } catch {
    return undefined;
  }
  return (await lstatOrUndefined(path))?.isDirectory() === true ? path : undefined;
}

/**
 * Creates the folder with cur/ new/ tmp/ and its `maildirfolder` file (directories 0700, file 0600), made
 * whole in the root's tmp/ and renamed into place in one step, so a crash never leaves half a folder, and
 * durable (fsync of the new directories and the root). Returns its path. FolderError: ALREADYEXISTS when
 * the directory is there, CANNOT for INBOX or an invalid name. Parents are not created (Maildir++ needs none).
 */
export async function createFolder(root: string, name: string): Promise<string> {
  const path = folderPath(root, name);
  if (path === root) throw new FolderError('ALREADYEXISTS', 'INBOX always exists');
  if ((await lstatOrUndefined(path)) !== undefined) throw new FolderError('ALREADYEXISTS', `mailbox "${name}" already exists`);
  const staging = join(root, 'tmp', `.folder.${process.pid}.${randomBytes(6).toString('hex')}`);
  await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o700 });
  await mkdir(staging, { mode: 0o700 });
  try {
    for (const sub of MAILDIR_SUBDIRS) await mkdir(join(staging, sub), { mode: 0o700 });
    const marker = await open(join(staging, MAILDIRFOLDER_FILE), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    await marker.close();
    await fsyncDir(staging);
    // rename(2) onto an existing name fails for a non-empty directory; an existing empty one (made by
    // hand) is replaced, which is what creating it would amount to anyway.
    await rename(staging, path);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') throw new FolderError('ALREADYEXISTS', `mailbox "${name}" already exists`);
    throw err;
  }
  await fsyncDir(root);
  await fsyncDir(join(root, 'tmp'));
  return path;
}

/**
 * Renames a folder and every folder below it ("a" → "b" moves `.a`, `.a.x`, `.a.x.y`), the parent first.
 * Returns the [old, new] names moved, parent first. As the reference (memory) store: the source must be a
 * folder of its own (a parent that exists only through its children is NONEXISTENT), and a target that
 * exists only as such a parent may be taken (its children become the renamed folder's). FolderError:
 * NONEXISTENT; ALREADYEXISTS when the target's directory or a renamed child's target directory exists;
 * CANNOT for INBOX on either side (the store's job), an invalid name, or a target inside the source. Not
 * atomic across several directories (Dovecot's Maildir++ rename is not either): after a crash part of the
 * tree has moved, each directory whole.
 */
export async function renameFolder(root: string, from: string, to: string): Promise<Array<readonly [string, string]>> {
  const src = canonical(from).name;
  const dst = canonical(to).name;
  if (src === 'INBOX' || dst === 'INBOX') throw new FolderError('CANNOT', 'renaming INBOX is done by the store');
  if (isSameOrUnder(dst, src)) throw new FolderError('CANNOT', `cannot rename "${from}" to a name inside itself`);
  const all = await listFolders(root);
  if (!all.some((f) => f.name === src)) throw new FolderError('NONEXISTENT', `mailbox "${from}" does not exist`);
  const plan = all.filter((f) => isSameOrUnder(f.name, src)).map((f) => [f, dst + f.name.slice(src.length)] as const);
  for (const [, target] of plan) {
    if ((await lstatOrUndefined(folderPath(root, target))) !== undefined) throw new FolderError('ALREADYEXISTS', `mailbox "${target}" already exists`);
  }
  const moved: Array<readonly [string, string]> = [];
  for (const [folder, target] of plan) {
    await renameNoReplace(folder.path, folderPath(root, target));
    moved.push([folder.name, target]);
  }
  await fsyncDir(root);
  return moved;
}

/** rename(2) that never replaces: a target that appeared meanwhile is ALREADYEXISTS. */
async function renameNoReplace(from: string, to: string): Promise<void> {
  if ((await lstatOrUndefined(to)) !== undefined) throw new FolderError('ALREADYEXISTS', 'the target folder appeared meanwhile');
  try {
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new FolderError('ALREADYEXISTS', 'the target folder appeared meanwhile');
    if (code === 'ENOENT') throw new FolderError('NONEXISTENT', 'the folder vanished meanwhile');
    throw err;
  }
}

/**
 * Deletes one folder's directory and its messages (children are separate directories and stay). It is
 * first renamed into the root's tmp/ (one atomic step: it is gone for every reader at once), then removed.
 * FolderError: NONEXISTENT when there is no such directory (or it is a symlink, which is never a folder),
 * CANNOT for INBOX or an invalid name.
 */
export async function deleteFolder(root: string, name: string): Promise<void> {
  const path = folderPath(root, name);
  if (path === root) throw new FolderError('CANNOT', 'INBOX cannot be deleted');
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) throw new FolderError('NONEXISTENT', `mailbox "${name}" does not exist`);
  const trash = join(root, 'tmp', `.deleted.${process.pid}.${randomBytes(6).toString('hex')}`);
  await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o700 });
  try {
    await rename(path, trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FolderError('NONEXISTENT', `mailbox "${name}" does not exist`);
    throw err;
  }
  await fsyncDir(root);
  await rm(trash, { recursive: true, force: true });
}
