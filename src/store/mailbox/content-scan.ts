/**
 * Mailbox.scanContent for the Maildir store: the files of many messages read for a scan (SEARCH BODY)
 * with less per-file cost than openContent — the names come from one index query per batch, and each
 * file is opened, checked, read into one buffer of its size and closed with plain fs calls (no FileHandle,
 * no stream), a few at a time. The same care as safe-fs.ts openMessageFile: O_NOFOLLOW, O_NONBLOCK, and
 * only a regular file is read. A file that cannot be found under its indexed name (renamed by a flag
 * change, or expunged, by another process) is reported back so the caller retries it through
 * openContent, which brings the index up to date first.
 */
import { close, constants, fstat, open, read } from 'node:fs';
import type { IndexDb } from './index-db.js';
import { messagePath } from './index-sync.js';

/** Files read at once: enough to keep the thread pool busy, few enough to bound the memory held. */
const IN_FLIGHT = 8;
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface IndexedFile {
  readonly uid: number;
  readonly path: string;
}

/** Where the index says the messages `uids` are (unknown UIDs are left out). */
export function indexedFiles(db: IndexDb, mailbox: number, dir: string, uids: readonly number[]): IndexedFile[] {
  const out: IndexedFile[] = [];
  if (uids.length === 0) return out;
  let lo = Infinity;
  let hi = -Infinity;
  for (const uid of uids) {
    if (uid < lo) lo = uid;
    if (uid > hi) hi = uid;
  }
  if (hi - lo >= 4 * uids.length + 64) {
    for (const uid of uids) {
      const r = db.messageByUid.get(mailbox, uid);
      if (r !== undefined) out.push({ uid, path: messagePath(dir, r.in_new, r.fname) });
    }
    return out;
  }
  const wanted = new Set(uids);
  for (const [uid, fname, inNew] of db.filesInRange.all(mailbox, lo, hi)) if (wanted.has(uid)) out.push({ uid, path: messagePath(dir, inNew, fname) });
  return out;
}

type Outcome = Buffer | 'missing' | 'skip';

/** One file's bytes; 'missing' when its name is gone, 'skip' when it is not a regular file (or a symlink). */
function readOne(path: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    open(path, FLAGS, (err, fd) => {
      if (err !== null) {
        const code = err.code;
        if (code === 'ENOENT' || code === 'ENOTDIR') resolve('missing');
        else if (code === 'ELOOP' || code === 'ENXIO') resolve('skip');
        else reject(err);
        return;
      }
      const done = (result: Outcome | Error): void => close(fd, () => (result instanceof Error ? reject(result) : resolve(result)));
      fstat(fd, (err2, st) => {
        if (err2 !== null) return done(err2);
        if (!st.isFile()) return done('skip');
        const buf = Buffer.allocUnsafe(st.size);
        const fill = (at: number): void => {
          if (at >= buf.length) return done(buf);
          read(fd, buf, at, buf.length - at, at, (err3, n) => {
            if (err3 !== null) return done(err3);
            // shorter than fstat said (truncated meanwhile): what is there
            if (n === 0) return done(buf.subarray(0, at));
            fill(at + n);
          });
        };
        fill(0);
      });
    });
  });
}

/** Reads the files, handing each one's bytes to `each`; the UIDs whose file was not found under its indexed name. */
export async function readFiles(files: readonly IndexedFile[], each: (uid: number, stored: Buffer) => void): Promise<number[]> {
  const missing: number[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < files.length && !failed) {
      const f = files[next++]!;
      const outcome = await readOne(f.path);
      if (outcome === 'missing') missing.push(f.uid);
      else if (outcome !== 'skip') each(f.uid, outcome);
    }
  };
  // after a failure the other workers finish the file in hand and stop
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, files.length) }, () =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  return missing;
}
