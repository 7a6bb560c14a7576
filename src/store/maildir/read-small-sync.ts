/**
 * A small message file read whole with blocking calls, as carefully as safe-fs.ts opens one (O_NOFOLLOW,
 * O_NONBLOCK, a regular file only). For FETCH's parsing of many small messages: one open/fstat/read/close
 * through the libuv pool per file costs about twenty times the CPU of the same calls made directly, which
 * is what Dovecot makes. Callers bound how long they block (a few milliseconds of files, then a yield).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The file's bytes; undefined when there is nothing to read here (gone or renamed meanwhile, a symlink,
 * not a regular file) or it is larger than `maxSize` (the caller streams it instead). Other errors throw.
 * `alloc` gives the buffer to read into (of exactly `size` bytes; a view of a larger one is fine).
 */
export function readSmallFileSync(path: string, maxSize: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENXIO' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > maxSize) return undefined;
    const buf = alloc(stat.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === buf.length ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}
