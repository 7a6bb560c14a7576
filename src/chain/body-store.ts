/**
 * The message body as the chain holds it between children: in memory up to a threshold, then in a
 * temporary file, so a large message does not cost its size in memory per session.
 */
import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class BodyStore {
  private chunks: Buffer[] = [];
  private size = 0;
  private file: { path: string; handle: FileHandle } | undefined;

  constructor(private readonly memoryLimit = 5 * 1024 * 1024) {}

  get length(): number {
    return this.size;
  }

  get spilled(): boolean {
    return this.file !== undefined;
  }

  async append(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.file && this.size + chunk.length > this.memoryLimit) await this.spill();
    if (this.file) await this.file.handle.write(chunk, 0, chunk.length, this.size);
    else this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Replaces the whole body (a child's REPLBODY). */
  async replace(body: Buffer): Promise<void> {
    await this.dispose();
    this.chunks = [];
    this.size = 0;
    await this.append(body);
  }

  /** The body in chunks of at most `size` bytes, in order. */
  async *read(size: number): AsyncGenerator<Buffer> {
    if (!this.file) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = this.size > 0 ? [all] : [];
      for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
      return;
    }
    for (let pos = 0; pos < this.size; pos += size) {
      const buf = Buffer.allocUnsafe(Math.min(size, this.size - pos));
      const { bytesRead } = await this.file.handle.read(buf, 0, buf.length, pos);
      yield buf.subarray(0, bytesRead);
    }
  }

  async toBuffer(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.read(1 << 20)) parts.push(c);
    return Buffer.concat(parts);
  }

  async dispose(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f) {
      await f.handle.close().catch(() => undefined);
      await rm(f.path, { force: true });
    }
  }

  private async spill(): Promise<void> {
    const path = join(tmpdir(), `mailgate-body-${process.pid}-${randomBytes(6).toString('hex')}`);
    // 0600 and exclusive create: message bodies are private.
    const handle = await open(path, 'wx+', 0o600);
    this.file = { path, handle };
    let pos = 0;
    for (const c of this.chunks) {
      await handle.write(c, 0, c.length, pos);
      pos += c.length;
    }
    this.chunks = [];
  }
}
