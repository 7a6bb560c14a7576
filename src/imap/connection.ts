/**
 * One client's byte stream, under the session: the input side cuts the socket's bytes at line ends and feeds
 * the wire's CommandReader one line at a time (a literal's bytes in one piece), stopping after each complete
 * command, so that what follows a command is still raw when the session wants raw lines (AUTHENTICATE's
 * responses, IDLE's DONE) or wants it gone (STARTTLS: plaintext pipelined after the command is discarded,
 * never run as commands once encrypted).
 * The output side is the wire's ResponseWriter (batched writes, backpressure, streamed literals) over
 * whichever socket is current. Byte counters for the logout line. The socket may be replaced once (STARTTLS),
 * and a DEFLATE layer put between it and both sides once (COMPRESS, deflate-layer.ts).
 */
import type { Duplex } from 'node:stream';
import type { Completion } from './command.js';
import { DeflateLayer, type InflatedInput } from './deflate-layer.js';
import { ResponseWriter, type ResponseSink } from './wire/encoder.js';
import { CommandReader, type ReaderLimits } from './wire/reader.js';
import type { LiteralSink, LiteralStart, ReaderEvent } from './wire/frame.js';

const LITERAL_PLUS = /\{(\d{1,15})\+\}\r?\n$/;

export type InputEvent = ReaderEvent | { readonly type: 'end' };

/**
 * Above this many unread octets the socket is paused until the session catches up; never below the line
 * limit, else a line longer than this (and within the limit, or not yet cut at it) would never complete
 * nor be cut, and the connection would hang.
 */
const PAUSE_ABOVE = 256 * 1024;
export class Connection {
  private socket: Duplex;
  private reader: CommandReader;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly events: ReaderEvent[] = [];
  private ended = false;
  private waiter: (() => void) | undefined;
  private closed = false;
  /** Octets known to be literal data next (fed to the reader whole, not cut at line ends). */
  private literalAhead = 0;
  /** Where responses go: the current socket, whatever it is by then. */
  readonly out: ResponseWriter;
  private readonly closeListeners = new Set<() => void>();
  /** COMPRESS=DEFLATE; undefined (no zlib memory) on every connection that did not ask for it. */
  private deflate: DeflateLayer | undefined;
  /**
   * Octets read from the client, counted after decompression (the IMAP text), as Dovecot's `in=` is: its
   * logout line counts what the imap process read and wrote above its zlib streams.
   */
  bytesIn = 0;
  /** Set by the session: where a literal's bytes go instead of the frame (the reader's openLiteral hook). */
  literalOpener: ((start: LiteralStart) => LiteralSink | undefined) | undefined;
  readonly startedAt = Date.now();
  private literalLimit: number | undefined;
  private readonly pauseAbove: number;

  constructor(
    socket: Duplex,
    private readonly limits: Partial<ReaderLimits>,
  ) {
    this.socket = socket;
    this.pauseAbove = Math.max(PAUSE_ABOVE, (limits.maxLineLength ?? 65536) + 2);
    this.reader = this.newReader();
    this.attach(socket);
    const sink: ResponseSink = {
      write: (chunk) => {
        if (this.deflate !== undefined) return this.closed || this.deflate.write(chunk);
        return this.closed || this.socket.writableEnded ? true : this.socket.write(chunk);
      },
      waitDrain: () =>
        new Promise<void>((resolve) => {
          // The layer's wait also ends when the socket closes (the compressor is destroyed with it).
          if (this.deflate !== undefined) return void this.deflate.waitDrain().then(resolve);
          if (this.closed || !this.socket.writableNeedDrain) return resolve();
          const socket = this.socket;
          // each wait forgets its close listener when it ends: a long download waits thousands of times
          let forget: () => void = () => undefined;
          const done = (): void => {
            socket.off('drain', done);
            forget();
            resolve();
          };
          socket.on('drain', done);
          forget = this.onClose(done);
        }),
    };
    this.out = new ResponseWriter(sink);
  }

  /** Octets written to the client, before compression (see bytesIn). */
  get bytesOut(): number {
    return this.out.bytesWritten;
  }

  private newReader(): CommandReader {
    const reader = new CommandReader(this.limits, { openLiteral: (start) => this.literalOpener?.(start) });
    reader.setLiteralLimit(this.literalLimit);
    return reader;
  }

  /** The reader's literal limit: `max` (the session's pre-login limit), or the configured one (undefined). */
  setLiteralLimit(max: number | undefined): void {
    this.literalLimit = max;
    this.reader.setLiteralLimit(max);
  }

  /** The socket ended or failed: `onClose` listeners run once. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `listener` once the connection closes (at once if it has); the function returned forgets it. */
  onClose(listener: () => void): () => void {
    if (this.closed) listener();
    else this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytesIn += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > this.pauseAbove) this.pauseInput();
    this.wake();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wake();
  };

  private readonly onGone = (): void => {
    // Compressed: what the client sent is still being inflated; the layer tells when the input is over.
    if (this.deflate === undefined) this.ended = true;
    this.wake();
    if (this.closed) return;
    this.closed = true;
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) listener();
  };

  private attach(socket: Duplex): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onGone);
    // A reset or a TLS failure: the session ends as on close; nothing is thrown.
    socket.on('error', this.onGone);
  }

  private detach(socket: Duplex): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onGone);
    socket.off('error', this.onGone);
  }

  /** The bytes the session reads come from the socket, or from the inflater once compressed. */
  private pauseInput(): void {
    if (this.deflate !== undefined) this.deflate.pause();
    else this.socket.pause();
  }

  /** Also once closed when compressed: the inflater still holds what the client sent before it closed. */
  private resumeInput(): void {
    if (this.deflate !== undefined) this.deflate.resume();
    else if (!this.closed) this.socket.resume();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Takes up to `max` raw bytes (literal data known to come next), or undefined when there are none. */
  private takeBytes(max: number): Buffer | undefined {
    const buf = this.pending[0];
    if (buf === undefined) return undefined;
    const piece = buf.length <= max ? buf : buf.subarray(0, max);
    if (piece.length === buf.length) this.pending.shift();
    else this.pending[0] = buf.subarray(piece.length);
    this.pendingBytes -= piece.length;
    if (this.pendingBytes <= this.pauseAbove) this.resumeInput();
    return piece;
  }

  /** Takes raw bytes up to and including the next LF (or all when `whole`), or undefined when none is complete. */
  private take(whole: boolean): Buffer | undefined {
    if (this.pending.length === 0) return undefined;
    const first = this.pending[0]!;
    const lf = first.indexOf(10);
    if (lf === -1 && !whole && this.pending.length > 1) this.pending = [Buffer.concat(this.pending)];
    const buf = this.pending[0]!;
    const at = buf.indexOf(10);
    const cut = at === -1 ? (whole ? buf.length : -1) : at + 1;
    if (cut === -1) return undefined;
    const piece = buf.subarray(0, cut);
    if (cut === buf.length) this.pending.shift();
    else this.pending[0] = buf.subarray(cut);
    this.pendingBytes -= piece.length;
    if (this.pendingBytes <= this.pauseAbove) this.resumeInput();
    return piece;
  }

  /**
   * The next command, literal announcement or reader error; `end` when the client is gone. After an
   * announcement the session calls acceptLiteral() or refuseLiteral() before asking again.
   */
  async nextEvent(): Promise<InputEvent> {
    for (;;) {
      const queued = this.events.shift();
      if (queued !== undefined) return queued;
      if (this.reader.dead || this.reader.awaitingDecision) return { type: 'end' };
      // A literal's bytes in one go; otherwise one line at a time, so nothing after a complete command is read.
      if (this.literalAhead > 0) {
        const data = this.takeBytes(this.literalAhead);
        if (data !== undefined) {
          this.literalAhead -= data.length;
          this.events.push(...this.reader.feed(data));
          continue;
        }
      } else {
        const piece = this.take(false) ?? (this.pendingBytes > (this.limits.maxLineLength ?? 65536) ? this.take(true) : undefined);
        if (piece !== undefined) {
          this.events.push(...this.reader.feed(piece));
          // A LITERAL+ marker ends the line: its bytes follow at once (the reader reads or skips exactly that many).
          const plus = piece[piece.length - 1] === 10 && !this.reader.dead ? LITERAL_PLUS.exec(piece.toString('latin1', Math.max(0, piece.length - 24))) : null;
          if (plus !== null) this.literalAhead = Number(plus[1]);
          continue;
        }
      }
      if (this.ended) return { type: 'end' };
      await this.wait();
    }
  }

  /** A synchronising literal of `size` octets is welcome: "+" goes out now and its bytes are read. */
  acceptLiteral(size: number): void {
    this.continuation('Ready for literal data');
    this.literalAhead = size;
    this.events.push(...this.reader.accept());
  }

  /** A synchronising literal is refused (the caller answered the tag): the client will not send it. */
  refuseLiteral(): void {
    this.events.push(...this.reader.refuse());
  }

  /** One raw line without its line end (cut at the line limit), or undefined once the client is gone. */
  async nextLine(): Promise<Buffer | undefined> {
    const max = this.limits.maxLineLength ?? 65536;
    for (;;) {
      const piece = this.take(false);
      if (piece !== undefined) {
        let end = piece.length - 1;
        if (end > 0 && piece[end - 1] === 13) end--;
        return piece.subarray(0, Math.min(end, max));
      }
      if (this.pendingBytes > max) {
        // A line past the limit: what there is stands for it (the caller answers it as bad input).
        const cut = this.take(true)!;
        return cut.subarray(0, max);
      }
      if (this.ended) return undefined;
      await this.wait();
    }
  }

  /**
   * STARTTLS: drops every byte the client sent after the command (and any command already framed from
   * them), then puts `upgrade(socket)` (the TLS socket over the same connection) in the socket's place.
   */
  startTls(upgrade: (socket: Duplex) => Duplex): void {
    this.flush();
    this.pending = [];
    this.pendingBytes = 0;
    this.literalAhead = 0;
    this.events.length = 0;
    this.reader = this.newReader();
    this.detach(this.socket);
    this.socket = upgrade(this.socket);
    this.attach(this.socket);
  }

  /**
   * COMPRESS: after the (uncompressed) tagged OK, everything both ways is raw DEFLATE. Bytes the client
   * sent after the command are already compressed: they go through the inflater first. `failed.corrupt` is
   * told once if the client's stream is not DEFLATE data, `failed.outputFailed` if the compressor fails; the
   * connection is then closed.
   */
  startCompress(failed: Pick<InflatedInput, 'corrupt' | 'outputFailed'>): void {
    this.flush();
    // Gone already: no zlib contexts for a socket whose close (which frees them) has been and gone.
    if (this.closed) return;
    const early = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    // Counted again once inflated.
    for (const b of early) this.bytesIn -= b.length;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    // From here the input ends when the layer says so (all inflated and taken), even if the socket has ended.
    const socketEnded = this.ended;
    this.ended = false;
    this.deflate = new DeflateLayer(this.socket, { data: this.onData, end: this.onEnd, ...failed });
    this.socket.resume();
    for (const b of early) this.deflate.feed(b);
    if (socketEnded) this.deflate.finishInput();
  }

  get compressed(): boolean {
    return this.deflate !== undefined;
  }

  /** `* OK text` (an untagged status), written with the next flush. */
  untaggedStatus(status: 'OK' | 'BAD' | 'BYE', text: string): void {
    this.out.status('*', status, text);
  }

  /** A synchronising literal's go-ahead or an AUTHENTICATE challenge; written at once. */
  continuation(text: string): void {
    this.out.continuation(text);
  }

  /** `<tag> OK [code] text`, then everything batched is written. */
  tagged(tag: string, completion: Completion): void {
    this.out.status(tag, completion.status, completion.text, completion.code);
  }

  /** Hands the batched responses to the socket. */
  flush(): void {
    this.out.flush();
  }

  /** Writes what is buffered, then ends the connection (the socket is destroyed if the client does not close). */
  close(): void {
    this.flush();
    // The session reads no more: the inflater is freed (its end wakes a read still waiting).
    this.deflate?.destroyInput();
    if (this.closed) return;
    // Compressed: the socket ends after the compressor's last bytes (DeflateLayer.end()).
    if (this.deflate !== undefined) this.deflate.end();
    else this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 2000);
    timer.unref();
    this.onClose(() => clearTimeout(timer));
  }

  /** At once, without waiting for buffered output (shutdown grace over, or a dead reader). */
  destroy(): void {
    this.deflate?.destroy();
    this.socket.destroy();
  }
}
