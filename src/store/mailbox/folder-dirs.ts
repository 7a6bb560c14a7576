/**
 * The file layer's folder operations (store/maildir/maildir-folders.ts: Maildir++ directories named from
 * validated names, direct children of the root, symlinks never folders) with its refusals turned into the
 * contract's MailboxError.
 */
import { checkMailboxName } from '../maildir/mailbox-names.js';
import { FolderError, createFolder, deleteFolder, folderPath, listFolders, renameFolder } from '../maildir/maildir-folders.js';
import { MailboxError } from './mailbox-store.js';

export const INBOX = 'INBOX';

/** The canonical name ("inbox/x" → "INBOX/x") or MailboxError('CANNOT'), by the rules the memory store uses too. */
export function validName(name: string): string {
  const check = checkMailboxName(name);
  if (!check.ok) throw new MailboxError('CANNOT', check.reason);
  return check.name;
}

/** The file layer's refusals as MailboxErrors, worded as the memory store words them (IMAP passes them on). */
function asMailboxError(err: unknown, name: string, exists = 'Mailbox already exists'): unknown {
  if (!(err instanceof FolderError)) return err;
  if (err.code === 'ALREADYEXISTS') return new MailboxError('ALREADYEXISTS', exists);
  if (err.code === 'NONEXISTENT') return new MailboxError('NONEXISTENT', `Mailbox doesn't exist: ${name}`);
  return new MailboxError(err.code, err.message);
}

async function mapped<T>(name: string, step: () => Promise<T>, exists?: string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw asMailboxError(err, name, exists);
  }
}

function mappedSync<T>(name: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    throw asMailboxError(err, name);
  }
}

/** The directory of a canonical name: the root for INBOX, else its Maildir++ directory. */
export function folderDir(root: string, name: string): string {
  return mappedSync(name, () => folderPath(root, name));
}

/** The folders on disk (INBOX not included). */
export async function listFolderDirs(root: string): Promise<string[]> {
  return (await listFolders(root)).map((f) => f.name);
}

export function makeFolderDir(root: string, name: string): Promise<string> {
  return mapped(name, () => createFolder(root, name));
}

export function renameFolderDirs(root: string, from: string, to: string): Promise<Array<readonly [string, string]>> {
  return mapped(from, () => renameFolder(root, from, to), 'Target mailbox already exists');
}

export function deleteFolderDir(root: string, name: string): Promise<void> {
  return mapped(name, () => deleteFolder(root, name));
}
