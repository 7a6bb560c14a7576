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

async function mapped<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof FolderError) throw new MailboxError(err.code, err.message);
    throw err;
  }
}

function mappedSync<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof FolderError) throw new MailboxError(err.code, err.message);
    throw err;
  }
}

/** The directory of a canonical name: the root for INBOX, else its Maildir++ directory. */
export function folderDir(root: string, name: string): string {
  return mappedSync(() => folderPath(root, name));
}

/** The folders on disk (INBOX not included). */
export async function listFolderDirs(root: string): Promise<string[]> {
  return (await listFolders(root)).map((f) => f.name);
}

export function makeFolderDir(root: string, name: string): Promise<string> {
  return mapped(() => createFolder(root, name));
}

export function renameFolderDirs(root: string, from: string, to: string): Promise<Array<readonly [string, string]>> {
  return mapped(() => renameFolder(root, from, to));
}

export function deleteFolderDir(root: string, name: string): Promise<void> {
  return mapped(() => deleteFolder(root, name));
}
