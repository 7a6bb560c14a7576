/**
 * COMPRESS=DEFLATE (RFC 4978) under a Connection: raw DEFLATE (RFC 1951, no zlib header) both ways over the
 * socket, with Node's zlib. Made only when a client issues COMPRESS: the two zlib contexts cost about 300 kB
 * (deflate at windowBits 15 and memLevel 8, Dovecot's imap_zlib settings and zlib's defaults: 256 kB; inflate:
 * its 32 kB window), too much to keep for every idle connection.
 *
 * Output: each write the ResponseWriter hands over (the end of a burst: a tagged reply, a continuation, an
 * explicit flush; or a full 64 kB batch) is compressed with Z_SYNC_FLUSH, as Dovecot's ostream-zlib does on
 * uncork, so the client can decode all it was sent and is never left waiting on bytes held in the compressor.
 * Input: compressed bytes are inflated in pieces of at most INFLATE_PIECE octets, so one socket read cannot
 * expand into megabytes at once (DEFLATE's ratio tops out near 1032:1), and the socket is paused while
 * inflate's queue is full. The input outlives the socket: a client that sends its last commands and closes
 * at once (LOGOUT then FIN) has them inflated and handed over at the reader's pace, as an uncompressed
 * connection keeps what it read; `end` comes after the last inflated byte was taken (or the layer is torn down).
 * A client that ends its DEFLATE stream (BFINAL) has ended its input: compression cannot be turned off
 * (RFC 4978), so any byte after that is a protocol error. Corrupt input: `corrupt` once, then the socket is
 * destroyed; a failing compressor: `outputFailed` once, likewise.
 */
import type { Duplex } from 'node:stream';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

/** At most ~1 MB of output per piece inflated. */
const INFLATE_PIECE = 1024;

export interface InflatedInput {
  /** Decompressed bytes from the client. */
  data(chunk: Buffer): void;
  /**
   * No more input, once: the client closed its side (or ended its DEFLATE stream) and every byte inflated
   * was handed over, or the layer failed or its input was torn down.
   */
  end(): void;
  /** The client's stream is not valid DEFLATE data (or goes on after its end); the socket is destroyed right after. */
  corrupt(err: Error): void;
  /** The compressor failed; the socket is destroyed right after. */
  outputFailed(err: Error): void;
}

export class DeflateLayer {
  private readonly deflate: DeflateRaw;
  private readonly inflate: InflateRaw;
  private failed = false;
  private inputOver = false;
  /** Compressed octets handed to the inflater: more than it consumed when its stream ends means bytes after the end. */
  private fed = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly input: InflatedInput,
  ) {
    this.deflate = createDeflateRaw({ flush: constants.Z_SYNC_FLUSH });
    // A client does not finish its DEFLATE stream before closing: at the end, what came is inflated as it is
    // (a sync flush), not called truncated (Z_FINISH, the default, would make that an error).
    this.inflate = createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH });
    // The socket ends once the compressor's last bytes are out (end() below).
    this.deflate.pipe(socket);
    this.deflate.on('error', (err) => this.fail(err, 'output'));
    this.inflate.on('data', input.data);
    this.inflate.on('error', (err) => this.fail(err, 'input'));
    this.inflate.on('drain', () => {
      if (!socket.destroyed) socket.resume();
    });
    this.inflate.on('end', this.onInflateEnd);
    // Destroyed (failure, teardown) or done: no more input either way.
    this.inflate.on('close', this.endInput);
    socket.on('data', this.onData);
    socket.on('end', () => this.finishInput());
    socket.once('close', this.onSocketClose);
  }

  private readonly onData = (chunk: Buffer): void => this.feed(chunk);

  /** Compressed bytes from the client (also those that arrived before the layer: pipelined after COMPRESS). */
  feed(chunk: Buffer): void {
    if (this.failed || this.inflate.destroyed || this.inflate.writableEnded || chunk.length === 0) return;
    if (this.inflate.readableEnded) return this.fail(new Error('data after the end of the compressed stream'), 'input');
    this.fed += chunk.length;
    let room = true;
    for (let at = 0; at < chunk.length; at += INFLATE_PIECE) room = this.inflate.write(chunk.subarray(at, at + INFLATE_PIECE));
    if (!room) this.socket.pause();
  }

  /** The client sent all it will: what is queued is inflated and handed over, then `end`. */
  finishInput(): void {
    if (!this.failed && !this.inflate.destroyed && !this.inflate.writableEnded) this.inflate.end();
  }

  /** Compresses and sync-flushes `chunk`; false: wait for waitDrain() before writing more. */
  write(chunk: Buffer): boolean {
    if (this.deflate.writableEnded || this.deflate.destroyed) return true;
    return this.deflate.write(chunk);
  }

  get ended(): boolean {
    return this.deflate.writableEnded || this.deflate.destroyed;
  }

  /** Until the compressor takes more (or is gone). */
  waitDrain(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.deflate.writableNeedDrain || this.deflate.destroyed) return resolve();
      const done = (): void => {
        this.deflate.off('drain', done);
        this.deflate.off('close', done);
        resolve();
      };
      this.deflate.on('drain', done);
      this.deflate.on('close', done);
    });
  }

  /** Stops / restarts the inflated bytes (the connection's own backpressure; also after the socket closed). */
  pause(): void {
    this.inflate.pause();
  }

  resume(): void {
    this.inflate.resume();
  }

  /** Ends the compressed stream; the socket is ended after its last bytes. */
  end(): void {
    if (!this.ended) this.deflate.end();
  }

  /** The reader is done: the inflater is freed and whatever else the client sends is dropped. */
  destroyInput(): void {
    this.socket.off('data', this.onData);
    this.inflate.destroy();
  }

  /** Frees both zlib contexts at once. */
  destroy(): void {
    this.destroyOutput();
    this.destroyInput();
  }

  private destroyOutput(): void {
    this.deflate.unpipe(this.socket);
    this.deflate.destroy();
  }

  /**
   * Nothing more can be written; what the client sent before closing is still inflated for the reader
   * (as an uncompressed connection keeps what it read), then the inflater ends and frees itself.
   */
  private readonly onSocketClose = (): void => {
    this.socket.off('data', this.onData);
    this.destroyOutput();
    this.finishInput();
  };

  /** The DEFLATE stream ended (BFINAL) or its input did; the client may not send anything after it. */
  private readonly onInflateEnd = (): void => {
    if (this.fed > this.inflate.bytesWritten) this.fail(new Error('data after the end of the compressed stream'), 'input');
    else this.endInput();
  };

  private readonly endInput = (): void => {
    if (this.inputOver) return;
    this.inputOver = true;
    this.input.end();
  };

  private fail(err: Error, side: 'input' | 'output'): void {
    if (this.failed) return;
    this.failed = true;
    if (side === 'input') this.input.corrupt(err);
    else this.input.outputFailed(err);
    this.inflate.destroy();
    this.socket.destroy();
  }
}
