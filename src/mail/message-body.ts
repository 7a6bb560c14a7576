/**
 * A message body: in memory up to a threshold, then in a private temporary file, so that a large
 * message does not cost its size in memory per session (milter-manager and Postfix's cleanup do the
 * same). Read back in chunks or as a stream; `dispose()` closes the file.
 */
import { randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

/** In memory up to this many bytes by default (milter-manager's default as well). */
export const DEFAULT_MEMORY_LIMIT = 5 * 1024 * 1024;

export interface MessageBodyOptions {
  /** Bytes kept in memory; past this the body goes to a file. */
  readonly memoryLimit?: number;
  /** Where a spilled body's file is made (default: the system's temporary directory). */
  readonly directory?: string;
}

export class MessageBody {
  private chunks: Buffer[] = [];
  private size = 0;
  private file: FileHandle | undefined;
  private readonly memoryLimit: number;
  private readonly directory: string | undefined;

  constructor(options: MessageBodyOptions = {}) {
    this.memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    this.directory = options.directory;
  }

  get length(): number {
    return this.size;
  }

  /** Whether the body is in a file now. */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  /** Adds bytes at the end. The chunk is kept as it is, not copied: the caller must not reuse it. */
  async append(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.file && this.size + chunk.length > this.memoryLimit) await this.spill();
    if (this.file) await this.file.write(chunk, 0, chunk.length, this.size);
    else this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Replaces the whole body (a filter's replaceBody). */
  async replace(body: Buffer): Promise<void> {
    await this.dispose();
    this.chunks = [];
    this.size = 0;
    await this.append(body);
  }

  /** The body in chunks of at most `size` bytes, in order. */
  async *read(size = 65536): AsyncGenerator<Buffer> {
    if (!this.file) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = this.size > 0 ? [all] : [];
      for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
      return;
    }
    for (let pos = 0; pos < this.size; pos += size) {
      const buf = Buffer.allocUnsafe(Math.min(size, this.size - pos));
      const { bytesRead } = await this.file.read(buf, 0, buf.length, pos);
      yield buf.subarray(0, bytesRead);
    }
  }

  /** The body as a readable stream (e.g. piped into a queue file). */
  stream(size = 65536): Readable {
    return Readable.from(this.read(size), { objectMode: false });
  }

  async toBuffer(): Promise<Buffer> {
    if (!this.file) return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const parts: Buffer[] = [];
    for await (const c of this.read(1 << 20)) parts.push(c);
    return Buffer.concat(parts, this.size);
  }

  /** Closes the spill file, if any (which frees its blocks). The in-memory part stays readable. */
  async dispose(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f) {
      this.size = 0;
      await f.close().catch(() => undefined);
    }
  }

  private async spill(): Promise<void> {
    const path = join(this.directory ?? tmpdir(), `mailgate-body-${process.pid}-${randomBytes(6).toString('hex')}`);
    // 0600 and exclusive create: message bodies are private.
    const handle = await open(path, 'wx+', 0o600);
    // The name goes at once and only the descriptor is kept: on Linux an unlinked file lives until its
    // last descriptor closes, so a crash or SIGKILL leaves no message body behind on disk (only the
    // moment between these two calls could).
    try {
      await unlink(path);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    this.file = handle;
    let pos = 0;
    for (const c of this.chunks) {
      await handle.write(c, 0, c.length, pos);
      pos += c.length;
    }
    this.chunks = [];
  }
}
