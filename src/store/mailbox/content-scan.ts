/**
 * Mailbox.scanContent for the Maildir store: the files of many messages read for a scan (SEARCH BODY)
 * with less per-file cost than openContent — the names and sizes come from one index query per batch,
 * and each file is opened, read into a buffer reused from file to file and closed with blocking fs calls
 * (no FileHandle, no stream, no fstat) for a few milliseconds at a time, then the event loop's turn. As
 * read-small-sync.ts says for FETCH: the same calls through the libuv pool cost many times their CPU
 * (a queued request, a thread woken and a completion per call: at 100,000 small files, 8 s of CPU
 * where the blocking calls take 2), and Dovecot makes them blocking too. As safe-fs.ts
 * openMessageFile: O_NOFOLLOW (a symlink is never followed) and O_NONBLOCK (a FIFO never blocks); what
 * is not exactly a file of the indexed size — renamed by a flag change or expunged by another process,
 * rewritten, or not a regular file — is reported back and read again through openContent, which syncs
 * the index and checks the file first.
 */
import { denseRange } from './uid-range.js';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { IndexDb } from './index-db.js';
import { messagePath } from './index-sync.js';

/**
 * How long a run of blocking reads (a scan here, readSmall for FETCH) holds the event loop at most before
 * it yields (plus one file's read).
 */
export const READ_SLICE_MS = 5;
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface IndexedFile {
  readonly uid: number;
  readonly path: string;
  /** the size the index knows (the name's S=, or measured when it was indexed) */
  readonly size: number;
}

/** Where the index says the messages `uids` are, and their sizes (unknown UIDs are left out). */
export function indexedFiles(db: IndexDb, mailbox: number, dir: string, uids: readonly number[]): IndexedFile[] {
  const out: IndexedFile[] = [];
  const range = denseRange(uids);
  if (range === undefined) {
    for (const uid of uids) {
      const r = db.messageByUid.get(mailbox, uid);
      if (r !== undefined) out.push({ uid, path: messagePath(dir, r.in_new, r.fname), size: r.size });
    }
    return out;
  }
  const wanted = new Set(uids);
  for (const [uid, fname, inNew, size] of db.filesInRange.all(mailbox, range[0], range[1])) if (wanted.has(uid)) out.push({ uid, path: messagePath(dir, inNew, fname), size });
  return out;
}

/**
 * One file's bytes into `buf` (at least size + 1 long): their length when one read finds exactly the
 * indexed size; 'retry' when it does not (renamed or removed meanwhile, another size, a FIFO or a
 * directory under the name: openContent, which checks the file first, decides); 'skip' for a symlink or
 * a socket. Asking one byte more than the indexed size is what tells a file of that size from a longer
 * one, without an fstat per file.
 */
function readOne(path: string, size: number, buf: Buffer): number | 'retry' | 'skip' {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'retry';
    if (code === 'ELOOP' || code === 'ENXIO') return 'skip';
    throw err;
  }
  try {
    // a regular file gives all it has up to the count asked in one read; anything else is read again
    return readSync(fd, buf, 0, size + 1, 0) === size ? size : 'retry';
  } catch {
    return 'retry';
  } finally {
    try {
      closeSync(fd);
    } catch {
      // what was read stands (as the asynchronous close's error was ignored before)
    }
  }
}

/** The largest message a scan reads into its own buffer. */
const SCAN_BUFFER_MAX = 4 * 1024 * 1024;

/**
 * Reads the files, handing each one's bytes to `each` (a view of a buffer reused for the next file: valid
 * during the call only); the UIDs to read again through openContent.
 */
export async function readFiles(files: readonly IndexedFile[], each: (uid: number, stored: Buffer) => void): Promise<number[]> {
  const retry: number[] = [];
  let buf = Buffer.allocUnsafe(64 * 1024);
  let i = 0;
  while (i < files.length) {
    const until = performance.now() + READ_SLICE_MS;
    do {
      const f = files[i++]!;
      // a large message (or a name claiming a huge S=) is read alone through openContent, as a stream
      if (f.size > SCAN_BUFFER_MAX) {
        retry.push(f.uid);
        continue;
      }
      if (buf.length < f.size + 1) buf = Buffer.allocUnsafe(f.size + 1);
      const outcome = readOne(f.path, f.size, buf);
      if (outcome === 'retry') retry.push(f.uid);
      else if (outcome !== 'skip') each(f.uid, buf.subarray(0, outcome));
    } while (i < files.length && performance.now() < until);
    // the other sessions' turn
    if (i < files.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return retry;
}
