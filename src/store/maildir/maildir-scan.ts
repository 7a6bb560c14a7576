/**
 * What one Maildir folder holds, read from directory listings only (SELECT of 100,000 messages is two
 * readdirs, no file opened): each message's base, info part, flags and the S=/W= sizes its name carries, and
 * the nanosecond mtimes of new/ and cur/ so a caller can skip a directory that has not changed since it
 * last looked. A directory whose mtime is within 2 s of now is "dirty" (Dovecot's rule): something may still
 * change it within the same timestamp granularity, so the caller must not trust an unchanged mtime next
 * time. Foreign files are tolerated: names without S=/W= (sizes undefined: measureMessageFile) or without an
 * info part, CRLF content; dot-files (the Maildir spec's "ignore"), symlinks and non-regular files are skipped.
 */
import { lstatSync, type Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { INFO_SEPARATOR, nameSizeField, parseMaildirInfo, type MaildirFlags } from './maildir-info.js';
import { isRealDirectory, openMessageFile } from './safe-fs.js';

export type MaildirSubdir = 'new' | 'cur';

export interface MaildirEntry {
  /** The file name before ':', the message's identity (the uidlist's key). */
  readonly base: string;
  /** The info part after ':' ("2,FS"), undefined when the name has none. */
  readonly info: string | undefined;
  readonly flags: MaildirFlags;
  /** S= (bytes on disk), when the name carries it. */
  readonly size: number | undefined;
  /** W= (bytes with CRLF line ends, IMAP's RFC822.SIZE), when the name carries it. */
  readonly vsize: number | undefined;
  readonly dir: MaildirSubdir;
  /** The entry's full name in `dir`. */
  readonly fileName: string;
}

export interface DirState {
  /** st_mtime in nanoseconds (bigint stat). */
  readonly mtimeNs: bigint;
  /** The mtime is within DIRTY_WINDOW_MS of now: an unchanged mtime later does not prove nothing changed. */
  readonly dirty: boolean;
}

/** Dovecot rescans a directory whose mtime is this close to now. */
export const DIRTY_WINDOW_MS = 2000;

/** The state of `<folder>/<sub>`; undefined when it does not exist (or is not a real directory). */
export async function dirState(folder: string, sub: MaildirSubdir, nowMs: number = Date.now()): Promise<DirState | undefined> {
  let st;
  try {
    // lstat: a cur/ that is a symlink (to another user's cur/) is not this folder's cur/.
    st = await lstat(join(folder, sub), { bigint: true });
  } catch (err) {
    return absent(err);
  }
  return stateOf(st, nowMs);
}

/**
 * dirState without a trip through the thread pool: the check every command makes of an unchanged folder
 * (a stat of two directories the kernel has cached, microseconds; Dovecot too stats them in line), so a
 * SELECT does not wait for the pool and the event loop twice on a busy machine.
 */
export function dirStateSync(folder: string, sub: MaildirSubdir, nowMs: number = Date.now()): DirState | undefined {
  let st;
  try {
    st = lstatSync(join(folder, sub), { bigint: true });
  } catch (err) {
    return absent(err);
  }
  return stateOf(st, nowMs);
}

/** Dovecot's rule: an mtime within 2 s of now (or in the future: a clock step) may still move. */
export function isDirty(mtimeNs: bigint, nowMs: number): boolean {
  return mtimeNs >= BigInt(Math.floor(nowMs - DIRTY_WINDOW_MS)) * 1_000_000n;
}

/** The entry for one file name in new/ or cur/, or undefined for a name that is never a message. */
export function maildirEntryOf(fileName: string, dir: MaildirSubdir): MaildirEntry | undefined {
  if (fileName.startsWith('.') || fileName.includes('/')) return undefined;
  // Cut once, sizes read in place: a folder's first scan does this for 100,000 names.
  const at = fileName.indexOf(INFO_SEPARATOR);
  if (at === 0) return undefined;
  const end = at === -1 ? fileName.length : at;
  const base = at === -1 ? fileName : fileName.slice(0, at);
  const info = at === -1 ? undefined : fileName.slice(at + 1);
  return { base, info, flags: parseMaildirInfo(info), size: nameSizeField(fileName, end, 'S'), vsize: nameSizeField(fileName, end, 'W'), dir, fileName };
}

/**
 * The messages in `<folder>/<sub>` (none when the directory is missing). Only regular files (readdir's
 * d_type, lstat where the file system gives none), so a symlink is never a message. The caller has checked
 * `<folder>/<sub>` is a real directory (dirState); scanMaildir does.
 */
export async function scanSubdir(folder: string, sub: MaildirSubdir, onSkip?: (fileName: string, reason: string) => void): Promise<MaildirEntry[]> {
  const dirents = await subdirEntries(folder, sub);
  const out: MaildirEntry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    if (!d.isFile()) {
      onSkip?.(d.name, d.isSymbolicLink() ? 'a symlink' : 'not a regular file');
      continue;
    }
    const entry = maildirEntryOf(d.name, sub);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** The entries of `<folder>/<sub>` with their types (Node lstats those the file system gives none); none when it is missing. */
export async function subdirEntries(folder: string, sub: MaildirSubdir): Promise<Dirent[]> {
  try {
    return await readdir(join(folder, sub), { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

export interface ScanOptions {
  /** mtimes from an earlier scan: a directory with the same mtime that was not dirty is not read again. */
  readonly since?: { readonly new?: DirState; readonly cur?: DirState };
  readonly nowMs?: number;
  readonly onSkip?: (dir: MaildirSubdir, fileName: string, reason: string) => void;
}

export interface ScanResult {
  /** States taken before the directories were read (a change during the read shows as a newer mtime). */
  readonly new: DirState | undefined;
  readonly cur: DirState | undefined;
  /** Entries of the directories read; a skipped (unchanged) directory contributes none. */
  readonly entries: readonly MaildirEntry[];
  /** Which directories were read. */
  readonly read: { readonly new: boolean; readonly cur: boolean };
}

/** Unchanged since `before`: same mtime, and `before` was not dirty. */
export function unchangedSince(before: DirState | undefined, now: DirState | undefined): boolean {
  return before !== undefined && now !== undefined && !before.dirty && before.mtimeNs === now.mtimeNs;
}

/**
 * Scans new/ and cur/ of one folder. With `since`, a directory whose mtime has not moved (and was not
 * dirty) is not read. new/ is read before cur/, so a message another process moves from new/ to cur/ during
 * the scan is found at least once; it may be found twice (the caller deduplicates by base, preferring cur/).
 * A rename inside cur/ during its readdir may hide a file for this scan: its mtime then differs from the
 * state returned here, so the next scan reads it again.
 */
export async function scanMaildir(folder: string, options: ScanOptions = {}): Promise<ScanResult> {
  const nowMs = options.nowMs ?? Date.now();
  // The folder itself must be a real directory too (the caller built it from a validated name; a symlink
  // put there by hand is never read through).
  if (!(await isRealDirectory(folder))) return { new: undefined, cur: undefined, entries: [], read: { new: false, cur: false } };
  const newState = await dirState(folder, 'new', nowMs);
  const curState = await dirState(folder, 'cur', nowMs);
  const readNew = newState !== undefined && !unchangedSince(options.since?.new, newState);
  const readCur = curState !== undefined && !unchangedSince(options.since?.cur, curState);
  const onSkip = options.onSkip;
  const fromNew = readNew ? await scanSubdir(folder, 'new', onSkip && ((f, r) => onSkip('new', f, r))) : [];
  const fromCur = readCur ? await scanSubdir(folder, 'cur', onSkip && ((f, r) => onSkip('cur', f, r))) : [];
  const entries = fromNew.length === 0 ? fromCur : fromNew.concat(fromCur);
  return { new: newState, cur: curState, entries, read: { new: readNew, cur: readCur } };
}

/**
 * Size on disk and virtual size (every line end counted as CRLF) of a message file whose name lacks S=/W=,
 * read through openMessageFile (no symlink followed). Undefined when the file is gone or not a regular file.
 */
export async function measureMessageFile(path: string): Promise<{ size: number; vsize: number } | undefined> {
  const opened = await openMessageFile(path);
  if (opened === undefined) return undefined;
  try {
    let size = 0;
    let bareLf = 0;
    let prevCr = false;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await opened.handle.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i] as number;
        if (b === 0x0a && !prevCr) bareLf++;
        prevCr = b === 0x0d;
      }
      size += bytesRead;
    }
    return { size, vsize: size + bareLf };
  } finally {
    await opened.handle.close();
  }
}

/** A directory's state from its lstat: undefined when it is no directory. */
function stateOf(st: { isDirectory(): boolean; readonly mtimeNs: bigint }, nowMs: number): DirState | undefined {
  return st.isDirectory() ? { mtimeNs: st.mtimeNs, dirty: isDirty(st.mtimeNs, nowMs) } : undefined;
}

/** A folder without the directory (or under a non-directory) has no state; any other error is raised. */
function absent(err: unknown): undefined {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw err;
}
