/**
 * What the store does to one message file: write an APPENDed message (tmp/, then straight into cur/ under
 * its final name with its flags and its internal date as mtime — never through new/, where another
 * process's sync could move it away before it is dated and named), place one in another folder (a hard
 * link for COPY, so the bytes are shared and the internal date — the mtime — is the same; a rename for
 * MOVE), and serve its bytes from an open descriptor, which stays valid when the file is renamed for a flag
 * change meanwhile.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { countLf, createCrlfToLf } from '../maildir/crlf-to-lf.js';
import { fsyncDir } from '../maildir/safe-fs.js';
import { goneIsFalse } from './batches.js';
import type { MessageContent } from './mailbox-store.js';
import { newMessageBase } from './message-names.js';

export interface WrittenMessage {
  readonly base: string;
  readonly fname: string;
  /** Bytes on disk (LF line ends). */
  readonly size: number;
  /** Bytes with CRLF line ends. */
  readonly vsize: number;
}

/**
 * Writes `content` (CRLF or LF) with LF line ends, as delivery does, into `<dir>/tmp/` (0600, exclusive),
 * fsyncs it, sets its mtime, renames it to `<dir>/cur/<nameFor(base)>` and fsyncs cur/.
 */
export async function writeToCur(dir: string, content: Buffer, host: string, nameFor: (base: string) => string, mtimeMs: number): Promise<WrittenMessage> {
  const converter = createCrlfToLf();
  const lf = Buffer.concat([converter.push(content), converter.end()]);
  const size = lf.length;
  const vsize = size + countLf(lf);
  const base = newMessageBase(host, size, vsize);
  const temp = join(dir, 'tmp', base);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temp, flags, 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    // A folder made by hand without tmp/.
    await mkdir(join(dir, 'tmp'), { mode: 0o700 }).catch(() => undefined);
    return open(temp, flags, 0o600);
  });
  const fname = nameFor(base);
  try {
    try {
      await handle.writeFile(lf);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const when = new Date(mtimeMs);
    await utimes(temp, when, when);
    await rename(temp, join(dir, 'cur', fname));
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(join(dir, 'cur'));
  return { base, fname, size, vsize };
}

/** A hard link (COPY; a plain copy where the file system has no links) or a rename (MOVE); false when the source is gone. */
export async function placeFile(from: string, to: string, moving: boolean): Promise<boolean> {
  try {
    if (moving) await rename(from, to);
    else await link(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (moving || (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EMLINK')) throw err;
  }
  try {
    await copyFile(from, to, constants.COPYFILE_EXCL);
    const st = await stat(from);
    await utimes(to, st.atime, st.mtime);
    return true;
  } catch (err) {
    await unlink(to).catch(() => undefined);
    return goneIsFalse(err);
  }
}

export function contentOf(handle: FileHandle, size: number): MessageContent {
  return {
    size,
    read: (start = 0, end = size): Readable =>
      end <= start ? Readable.from([]) : handle.createReadStream({ start, end: end - 1, autoClose: false, emitClose: false }),
    readAll: async () => {
      const buf = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await handle.read(buf, at, size - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return buf.subarray(0, at);
    },
    close: () => handle.close().catch(() => undefined),
  };
}
