/**
 * Durable file operations: a file is written under tmp/, fsynced, then linked or renamed into place, and
 * the target directory fsynced before anyone is told it is there. Directory fsyncs are group-committed:
 * every rename done before a directory fsync starts is covered by it, so concurrent sessions share one
 * (the file fsyncs cannot be shared: each file's data is its own).
 */
import { close as closeFd, fdatasync, fsync, open as openFd, write as writeFd } from 'node:fs';
import { open, link, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';

export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** One directory's fsyncs, batched: a caller joins the next fsync that starts after it called. */
export class DirSyncer {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** How many fsyncs ran and how many callers they served (for the benchmark and the tests). */
  readonly stats = { fsyncs: 0, callers: 0 };

  constructor(
    readonly path: string,
    private readonly batch = true,
  ) {}

  sync(): Promise<void> {
    this.stats.callers += 1;
    if (!this.batch) {
      this.stats.fsyncs += 1;
      return fsyncDir(this.path);
    }
    if (this.running === undefined) return this.start();
    // The fsync under way may have started before our rename: wait for the one after it, shared.
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  /**
   * The directory stays open between fsyncs (an fsync flushes the directory as it is when it runs):
   * two fewer round trips to the thread pool per commit. A plain fd, not a FileHandle, which would be
   * closed with a warning if a store were dropped without close().
   */
  private fd: Promise<number> | undefined;

  private async syncOpen(): Promise<void> {
    this.fd ??= promisify(openFd)(this.path, 'r');
    const fd = this.fd;
    try {
      await promisify(fsync)(await fd);
    } catch (err) {
      // Open it again next time (e.g. EBADF); the error is still this fsync's.
      if (this.fd === fd) this.fd = undefined;
      void fd.then((n) => closeFd(n, () => undefined), () => undefined);
      throw err;
    }
  }

  /** Closes the kept directory (the next sync opens it again). */
  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await fd.then((n) => promisify(closeFd)(n), () => undefined);
  }

  private start(): Promise<void> {
    this.next = undefined;
    this.stats.fsyncs += 1;
    const p = this.syncOpen().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}

/** File modes: created with them (the open's mode), never chmod-ed after. */
export const FILE_MODE = 0o600;

/** What writeTemp wrote after `head`. */
export interface Written {
  /** Bytes written after `head`. */
  readonly size: number;
  /**
   * Those bytes, when they went to the file in one write (a stream of up to about 64 KiB, collected until
   * then, or a Buffer body): they are in
   * memory anyway, and a caller may read them from here instead of opening the file again. Undefined for a
   * larger stream, whose bytes were not kept.
   */
  readonly bytes: Buffer | undefined;
}

/**
 * Writes `head` then the stream's bytes to `tmp` (created exclusively, mode 0600), fsyncs and closes it.
 * On any error the temp file is removed and the error thrown.
 */
export async function writeTemp(tmp: string, head: Buffer, body?: Readable | Buffer): Promise<Written> {
  // A plain fd and callbacks, not a FileHandle: no handle object and fewer promises per file (this runs
  // for every message and every state rewrite).
  const fd = await new Promise<number>((resolve, reject) => openFd(tmp, 'wx', FILE_MODE, (err, n) => (err ? reject(err) : resolve(n))));
  let size = 0;
  let flushes = 0;
  let last: Buffer | undefined;
  try {
    let pending: Buffer[] = [head];
    let pendingLen = head.length;
    const flush = async (): Promise<void> => {
      if (pendingLen === 0) return;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      pending = [];
      pendingLen = 0;
      flushes += 1;
      last = buf;
      await writeAll(fd, buf);
    };
    if (Buffer.isBuffer(body)) {
      pending.push(body);
      pendingLen += body.length;
      size = body.length;
    } else if (body !== undefined) {
      for await (const chunk of body) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        pending.push(b);
        pendingLen += b.length;
        size += b.length;
        if (pendingLen >= 65536) await flush();
      }
    }
    await flush();
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    closeFd(fd, () => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The data is on disk once datasync returns: the close is not waited for (one serial trip to the
  // thread pool fewer before the caller's link and directory fsync); a close error cannot lose data.
  closeFd(fd, () => undefined);
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(body)) bytes = body;
  else if (flushes === 1 && last !== undefined) bytes = last.subarray(head.length);
  return { size, bytes };
}

/** Writes all of `buf` at the file's position (a short write is continued). */
function writeAll(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const more = (offset: number): void =>
      writeFd(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) reject(err);
        else if (offset + n < buf.length) more(offset + n);
        else resolve();
      });
    more(0);
  });
}

/**
 * Moves a fsynced temp file to a new name that must not exist yet (link fails on EEXIST). The temp name
 * is dropped in the background once linked (the caller's directory fsync runs meanwhile; a leftover is
 * removed by the start-up recovery, the message being complete under its final name).
 */
export async function publishNew(tmp: string, final: string): Promise<void> {
  try {
    await link(tmp, final);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  void unlink(tmp).catch(() => undefined);
}

/** Moves a fsynced temp file over `final` (state files are rewritten whole). */
export async function publishReplace(tmp: string, final: string): Promise<void> {
  try {
    await rename(tmp, final);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
