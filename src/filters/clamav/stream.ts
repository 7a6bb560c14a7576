/**
 * One zINSTREAM scan written as the data becomes known, as clamav-milter streams a message to clamd
 * while the MTA hands it over: end of message then only sends the terminator and waits for the
 * verdict, and the filter never holds a large message in memory.
 *
 * Streaming gives up one thing a whole request has: once bytes are on a connection that fails,
 * they are gone. So the stream keeps references to what it sent while that is at most
 * `replayLimit` bytes; a connection that could not connect, or that clamd dropped without a word
 * (restarted, or closing a connection it found idle), is then replayed whole through the pool, which
 * tries the next address. Timeouts and garbage are not retried; past the limit nothing is: those
 * are the filter's on_fail.
 */
import { ClamdError, type ClamdConnection } from './connection.js';
import type { ClamdPool, PoolReply } from './pool.js';
import { encodeInstream, END_OF_STREAM, frameChunks, ZINSTREAM } from './protocol.js';

/**
 * Messages up to this size survive a failed connection (mail is mostly far smaller). Bytes are also
 * held until this many are waiting (or the stream ends), so most messages cost one write to clamd,
 * not one per MTA packet, and a large one streams in pieces of this size; holding them costs no
 * memory of its own, as the stream keeps as much for a replay anyway.
 */
export const DEFAULT_REPLAY_LIMIT = 1024 * 1024;

export class ClamdStream {
  private readonly connection: ClamdConnection;
  private started = false;
  private finished = false;
  /** Bytes not written yet (fewer than the replay limit). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** What was written or is pending, while it is within the replay limit; undefined past it. */
  private sent: Buffer[] | undefined = [];
  private sentBytes = 0;

  constructor(
    private readonly pool: ClamdPool,
    private readonly replayLimit = DEFAULT_REPLAY_LIMIT,
  ) {
    this.connection = pool.reserve();
  }

  /**
   * The next bytes of the stream, sent once the replay limit's worth is waiting, as one INSTREAM chunk (or
   * several, past clamd's chunk size). A promise when the socket is full: wait for it before writing
   * more (backpressure).
   */
  write(parts: readonly Buffer[]): Promise<void> | undefined {
    if (this.finished) throw new Error('ClamdStream: write after finish');
    for (const p of parts) {
      if (p.length === 0) continue;
      this.pending.push(p);
      this.pendingBytes += p.length;
      this.keep(p);
    }
    if (this.pendingBytes < this.replayLimit) return undefined;
    return this.connection.write(this.take([])) ? undefined : this.connection.drained();
  }

  /** Ends the stream and resolves with clamd's reply; connection failures throw ClamdError. */
  async finish(): Promise<PoolReply> {
    this.finished = true;
    const conn = this.connection;
    // A connection that failed while streaming skips straight to the replay (or the failure).
    if (conn.failure === undefined) {
      conn.write(this.take([END_OF_STREAM]));
      try {
        const reply = await conn.reply();
        this.pool.release(conn);
        return { reply, address: conn.address };
      } catch (err) {
        if (!(err instanceof ClamdError)) throw err;
      }
    }
    const failure = conn.failure!;
    if (this.sent === undefined || !(failure.phase === 'connect' || failure.dropped)) throw failure;
    // The replay's connection comes from the pool, which sets a dead address aside and tries the next.
    return this.pool.request(encodeInstream(this.sent), conn);
  }

  /** Gives the scan up (message aborted, or too large to scan): clamd sees the connection close. */
  abandon(): void {
    this.finished = true;
    this.sent = undefined;
    this.pending = [];
    this.connection.close();
  }

  /** The pending bytes framed as chunks (the command first, the first time), then `tail`. */
  private take(tail: Buffer[]): Buffer[] {
    const out = frameChunks(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.started) {
      this.started = true;
      out.unshift(ZINSTREAM);
    }
    for (const b of tail) out.push(b);
    return out;
  }

  private keep(part: Buffer): void {
    if (this.sent === undefined) return;
    this.sentBytes += part.length;
    if (this.sentBytes > this.replayLimit) this.sent = undefined;
    else this.sent.push(part);
  }
}
