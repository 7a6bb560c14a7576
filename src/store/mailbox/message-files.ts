/**
 * What the mailbox handle does to one message file: place it in another folder (a hard link for COPY, so
 * the bytes are shared and the internal date — the mtime — is the same; a rename for MOVE) and serve its
 * bytes from an open descriptor, which stays valid when the file is renamed for a flag change meanwhile.
 */
import { constants } from 'node:fs';
import { copyFile, link, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { goneIsFalse } from './batches.js';
import type { MessageContent } from './mailbox-store.js';

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
