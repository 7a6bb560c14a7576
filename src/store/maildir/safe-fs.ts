/**
 * File-system calls a mailbox reader must make carefully: a message file is opened with O_NOFOLLOW (a
 * symlink dropped into cur/ pointing at another user's mail or /etc/shadow is not followed) and only when it
 * is a regular file (a FIFO would block, a device would leak); a folder is a directory found by lstat (a
 * symlink is never a folder); and the fsync helpers the Maildir writers share.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Makes a directory's entries (a created, renamed or removed file in it) durable. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** An opened message file and what fstat said about it. */
export interface OpenedMessageFile {
  readonly handle: FileHandle;
  readonly stat: Stats;
}

/**
 * Opens a message file read-only without following a symlink and without blocking on a FIFO. Undefined
 * when there is nothing to read: the name is gone (ENOENT: expunged or renamed meanwhile), it is a symlink
 * (ELOOP), or not a regular file; other errors (EACCES, EIO, EMFILE) are thrown.
 */
export async function openMessageFile(path: string): Promise<OpenedMessageFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, stat };
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** lstat that answers undefined for a missing path (ENOENT/ENOTDIR) instead of throwing. */
export async function lstatOrUndefined(path: string, options?: { bigint?: false }): Promise<Stats | undefined> {
  try {
    return await lstat(path, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** True when `path` is a real directory (lstat: a symlink to one is not). */
export async function isRealDirectory(path: string): Promise<boolean> {
  return (await lstatOrUndefined(path))?.isDirectory() === true;
}

/** True when `path` is a regular file, not a symlink (lstat). */
export async function isRegularFile(path: string): Promise<boolean> {
  return (await lstatOrUndefined(path))?.isFile() === true;
}

/**
 * The path of a message file in a folder's new/ cur/ or tmp/: throws on a file name that is not a single
 * plain entry (empty, '.', '..', a '/', a NUL), so a name taken from a uidlist or an index never walks out.
 */
export function messageFilePath(folder: string, sub: 'new' | 'cur' | 'tmp', fileName: string): string {
  if (fileName === '' || fileName === '.' || fileName === '..' || fileName.includes('/') || fileName.includes('\0')) {
    throw new Error(`not a message file name: ${JSON.stringify(fileName)}`);
  }
  return join(folder, sub, fileName);
}

/**
 * True when `child` is exactly one level below `root` (after resolving '.' and '..' textually): the check
 * every folder path built from a name passes before it is used.
 */
export function isDirectChild(root: string, child: string): boolean {
  const r = resolve(root);
  const c = resolve(child);
  const rel = relative(r, c);
  return rel.length > 0 && !isAbsolute(rel) && !rel.includes(sep) && rel !== '..' && dirname(c) === r;
}
