/**
 * A raw IMAP client that can switch to COMPRESS=DEFLATE (RFC 4978) with its own zlib: lines and literal
 * bytes read from the decompressed stream, commands sent compressed and sync-flushed. It counts octets on
 * the wire and decompressed, and keeps the compressed chunks received, so a test can prove compression was
 * really on (and that the server flushed) rather than trust either side's word.
 */
import type { Duplex } from 'node:stream';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

export class DeflateClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  private inflate: InflateRaw | undefined;
  private deflate: DeflateRaw | undefined;
  /** Octets received on the socket / after decompression; octets of IMAP text sent (before compression). */
  wireIn = 0;
  plainIn = 0;
  plainOut = 0;
  /** Compressed chunks as they came off the socket. */
  readonly compressedChunks: Buffer[] = [];
  inflateError: Error | undefined;

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.wireIn += chunk.length;
      if (this.inflate !== undefined) {
        this.compressedChunks.push(chunk);
        this.inflate.write(chunk);
      } else this.append(chunk);
    });
    // Once compressed, the connection has ended only when the inflater has given out its last bytes.
    const end = (): void => {
      if (this.inflate !== undefined && !this.inflate.writableEnded) this.inflate.end();
      else if (this.inflate === undefined) this.finish();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  get compressed(): boolean {
    return this.inflate !== undefined;
  }

  private append(chunk: Buffer): void {
    this.plainIn += chunk.length;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** From now on both directions are raw DEFLATE (call right after reading the COMPRESS OK). */
  startCompress(): void {
    this.inflate = createInflateRaw();
    this.inflate.on('data', (c: Buffer) => this.append(c));
    this.inflate.on('error', (err) => {
      this.inflateError = err;
      this.finish();
    });
    this.inflate.on('end', () => this.finish());
    this.deflate = createDeflateRaw();
    this.deflate.on('data', (c: Buffer) => this.socket.write(c));
    // Bytes already read past the OK line would be compressed data: none is expected, all are kept.
    const early = this.buf;
    this.buf = Buffer.alloc(0);
    this.plainIn -= early.length;
    if (early.length > 0) this.inflate.write(early);
  }

  /** Sends IMAP text (compressed and sync-flushed once compression is on). */
  send(text: string | Buffer): void {
    const b = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    this.plainOut += b.length;
    if (this.deflate === undefined) this.socket.write(b);
    else {
      this.deflate.write(b);
      this.deflate.flush(constants.Z_SYNC_FLUSH);
    }
  }

  /**
   * Ends the client's side once everything sent is on the wire (compressed: after its flush). `finish`: the
   * DEFLATE stream is ended first (its final block, as a client closing its compressor at LOGOUT does).
   */
  async end(finish = false): Promise<void> {
    const deflate = this.deflate;
    if (deflate !== undefined) {
      await new Promise<void>((resolve) => (finish ? deflate.end(() => resolve()) : deflate.flush(constants.Z_SYNC_FLUSH, () => resolve())));
      // The compressed bytes reach the socket in the deflater's 'data' handler: after the callback's turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.socket.end();
  }

  private async until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (this.inflateError !== undefined) throw new Error(`client inflate failed: ${this.inflateError.message}`);
      if (this.ended) throw new Error(`server closed the connection while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next line without CRLF. */
  async line(timeoutMs = 5000): Promise<string> {
    await this.until(() => this.buf.indexOf('\r\n') !== -1, timeoutMs, 'response line');
    const at = this.buf.indexOf('\r\n');
    const line = this.buf.toString('latin1', 0, at);
    this.buf = this.buf.subarray(at + 2);
    return line;
  }

  /** Exactly `n` octets (a literal's contents). */
  async bytes(n: number, timeoutMs = 10_000): Promise<Buffer> {
    await this.until(() => this.buf.length >= n, timeoutMs, `${n} literal octets`);
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Lines up to and including the one starting with `tag ` (literals inside are read as lines too). */
  async untilTagged(tag: string, timeoutMs = 5000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      lines.push(l);
      if (l.startsWith(`${tag} `)) return lines;
    }
  }

  /** Whether the server closed the connection. */
  async closed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return this.ended;
  }

  destroy(): void {
    this.inflate?.destroy();
    this.deflate?.destroy();
    this.socket.destroy();
  }
}
