/**
 * One zINSTREAM scan written as the data becomes known, as clamav-milter streams a message to clamd
 * while the MTA hands it over: end of message then only sends what is left and waits for the
 * verdict, and the filter never holds a large message in memory.
 *
 * Bytes are held until `replayLimit` (1 MiB) are waiting, or KEEP_BUSY_MS passed since the last
 * write (so a slowly arriving message does not run into clamd's ReadTimeout), or the stream ends:
 * most messages cost one write. The connection was opened at the start; if it failed before the
 * first byte went out (refused, or closed by clamd while it waited: its CommandReadTimeout or
 * ReadTimeout), a new one takes its place and nothing is lost. Bytes past the replay limit are not
 * written before the connection is known to be up.
 *
 * Once bytes are on a connection that fails, they are gone. So the stream keeps references to
 * everything while it is within `replayLimit`, and replays it through the pool (which tries the next
 * address) when clamd took nothing of it: the connection never came up, or clamd said its timeout
 * ran out waiting for a command. A connection that ended while the message was on it (clamd may
 * have died of that very message), a timeout or garbage is not retried: that is the filter's on_fail.
 */
import { monotonicNow } from '../../mail/deadlines.js';
import { ClamdError, type ClamdConnection } from './connection.js';
import type { ClamdPool, PoolReply } from './pool.js';
import { encodeInstream, END_OF_STREAM, frameChunks, ZINSTREAM } from './protocol.js';

/** Messages up to this size survive a connection that failed; also the most bytes held before a write. */
export const DEFAULT_REPLAY_LIMIT = 1024 * 1024;

/** Held bytes are written at least this often (clamd's ReadTimeout is 120 s by default). */
export const KEEP_BUSY_MS = 10_000;

export class ClamdStream {
  private connection: ClamdConnection;
  private started = false;
  private finished = false;
  /** Bytes not written yet. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lastWrite = monotonicNow();
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
   * The next bytes of the stream, written as one INSTREAM chunk (or several, past clamd's chunk
   * size) once enough are waiting. A promise when the socket is full: wait for it before writing
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
    if (this.pendingBytes < this.replayLimit && monotonicNow() - this.lastWrite < KEEP_BUSY_MS) return undefined;
    // The first bytes past the replay limit cannot be sent again: they wait until a connection is
    // known to be up, the writer waiting with them.
    if (!this.started && !(this.connection.usable() && !this.connection.connecting)) return this.connectionUp().then(() => this.flushOrWait());
    return this.flushOrWait();
  }

  /** Waits for the connection to come up, replacing it while it fails, once per clamd address at most. */
  private async connectionUp(): Promise<void> {
    for (let tries = 0; tries < this.pool.size; tries++) {
      await this.connection.whenSettled();
      if (this.finished || this.connection.usable()) return;
      this.connection = this.pool.replace(this.connection);
    }
  }

  /** Ends the stream and resolves with clamd's reply; connection failures throw ClamdError. */
  async finish(): Promise<PoolReply> {
    this.finished = true;
    let failure = this.connection.failure;
    if (failure === undefined || !this.started) {
      this.flush([END_OF_STREAM]);
      const conn = this.connection;
      try {
        const reply = await conn.reply();
        this.pool.release(conn);
        return { reply, address: conn.address };
      } catch (err) {
        if (!(err instanceof ClamdError)) throw err;
        failure = err;
      }
    }
    const conn = this.connection;
    if (this.sent === undefined || !(failure.phase === 'connect' || failure.dropped)) throw failure;
    return this.pool.request(encodeInstream(this.sent), conn);
  }

  /** Gives the scan up (message aborted, or too large to scan); a kept session not written to goes back to the pool. */
  abandon(): void {
    this.finished = true;
    this.sent = undefined;
    this.pending = [];
    if (!this.started && this.connection.usable()) this.pool.release(this.connection);
    else this.connection.close();
  }

  private flushOrWait(): Promise<void> | undefined {
    if (this.finished || this.pendingBytes === 0) return undefined;
    return this.flush([]) ? undefined : this.connection.drained();
  }

  /** Writes the pending bytes (the command first, the first time), then `tail`; false when the socket is full. */
  private flush(tail: Buffer[]): boolean {
    const out = frameChunks(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.started) {
      this.started = true;
      // Nothing is lost on a connection that failed before its first byte: take a new one.
      if (!this.connection.usable()) this.connection = this.pool.replace(this.connection);
      out.unshift(ZINSTREAM);
    }
    for (const b of tail) out.push(b);
    this.lastWrite = monotonicNow();
    return this.connection.write(out);
  }

  private keep(part: Buffer): void {
    if (this.sent === undefined) return;
    this.sentBytes += part.length;
    if (this.sentBytes > this.replayLimit) this.sent = undefined;
    else this.sent.push(part);
  }
}
