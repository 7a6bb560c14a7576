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
 * inflate's queue is full. Corrupt input: `corrupt` once, then the socket is destroyed.
 */
import type { Duplex } from 'node:stream';
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';

/** At most ~1 MB of output per piece inflated. */
const INFLATE_PIECE = 1024;

export interface InflatedInput {
  /** Decompressed bytes from the client. */
  data(chunk: Buffer): void;
  /** The client closed its side and everything it sent was inflated. */
  end(): void;
  /** The client's stream is not valid DEFLATE data; the socket is destroyed right after. */
  corrupt(err: Error): void;
}

export class DeflateLayer {
  private readonly deflate: DeflateRaw;
  private readonly inflate: InflateRaw;
  private failed = false;

  constructor(
    private readonly socket: Duplex,
    input: InflatedInput,
  ) {
    this.deflate = createDeflateRaw({ flush: constants.Z_SYNC_FLUSH });
    this.inflate = createInflateRaw();
    // The socket ends once the compressor's last bytes are out (end() below).
    this.deflate.pipe(socket);
    this.deflate.on('error', (err) => this.fail(err, undefined));
    this.inflate.on('data', input.data);
    this.inflate.on('error', (err) => this.fail(err, input));
    this.inflate.on('drain', () => {
      if (!socket.destroyed) socket.resume();
    });
    socket.on('data', this.onData);
    // Not inflate.end(): a client never finishes its DEFLATE stream, and zlib would call that truncation an error.
    socket.on('end', () => {
      if (!this.failed) this.inflate.flush(constants.Z_SYNC_FLUSH, () => input.end());
    });
    socket.once('close', () => this.destroy());
  }

  private readonly onData = (chunk: Buffer): void => this.feed(chunk);

  /** Compressed bytes from the client (also those that arrived before the layer: pipelined after COMPRESS). */
  feed(chunk: Buffer): void {
    if (this.failed || this.inflate.destroyed) return;
    let room = true;
    for (let at = 0; at < chunk.length; at += INFLATE_PIECE) room = this.inflate.write(chunk.subarray(at, at + INFLATE_PIECE));
    if (!room) this.socket.pause();
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

  /** Stops / restarts the inflated bytes (the connection's own backpressure). */
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

  /** Frees both zlib contexts at once (socket closed). */
  destroy(): void {
    this.socket.off('data', this.onData);
    this.deflate.unpipe(this.socket);
    this.deflate.destroy();
    this.inflate.destroy();
  }

  private fail(err: Error, input: InflatedInput | undefined): void {
    if (this.failed) return;
    this.failed = true;
    input?.corrupt(err);
    this.socket.destroy();
  }
}
