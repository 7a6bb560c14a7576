/**
 * The IMAP command reader: bytes in (in whatever chunks the socket delivers), events out — complete
 * commands as frames, announcements of synchronising literals, and errors. Push-based and independent of
 * sockets: `feed(chunk)` returns the events that chunk completed (or, pull mode, `push(chunk)` then
 * `next()` one event at a time); while a `{n}` literal waits for the session's decision the reader stops
 * and keeps the rest of the input (the caller pauses the socket), and `accept()` / `refuse()` go on from
 * there. The same input gives the same events however it is chunked.
 *
 * Hand-written rather than reused: imapflow's parser is the client side of the protocol (it recognises only
 * `{n}`, so no LITERAL+; it buffers each literal whole; it cannot answer a literal before its bytes arrive,
 * which a server must do to send "+" or to refuse an oversize APPEND unread; it is lenient where RFC 3501
 * requires a BAD). emailjs-imap-handler parses one whole command string with its literals already inside:
 * no streaming, no continuation control, no LITERAL+.
 *
 * Line ends: CRLF, and a bare LF is accepted as a line end too, as Dovecot does (a CR just before the LF is
 * dropped; a CR anywhere else stays in the text and the cursor refuses it).
 *
 * Limits (memory is bounded by them, whatever the client sends):
 * - a line without its literals longer than `maxLineLength` → 'line-too-long', the rest of the line is
 *   skipped and the reader resynchronises at the next line end (only a short tail is kept, to notice a
 *   literal marker ending the line, whose bytes must not be read as commands);
 * - `{n}` over `maxLiteralSize` → 'literal-too-big' (a command over `maxCommandSize` in all:
 *   'command-too-big'), both with [TOOBIG], without pausing: the client waits for a "+" that never comes,
 *   so its bytes are never sent;
 * - `{n+}` over the limit → its bytes are read and dropped up to `maxDiscardSize`, then 'literal-too-big'
 *   once the command ends; past `maxDiscardSize` → 'literal-overflow', fatal (BYE and close), as RFC 7888
 *   §4 allows; under a lowered (pre-login) limit nothing is dropped: over it is fatal at once.
 */
import {
  ParseError,
  type CommandFrame,
  type FrameSegment,
  type LiteralAnnouncement,
  type LiteralSink,
  type LiteralStart,
  type ReaderError,
  type ReaderErrorKind,
  type ReaderEvent,
} from './frame.js';
import { isAtomChar, isTagChar } from './grammar.js';

export interface ReaderLimits {
  /** Octets of one line without its line end and literals (Dovecot's imap_max_line_length: 64 KiB). */
  readonly maxLineLength: number;
  /** Octets of one literal accepted (APPENDLIMIT). */
  readonly maxLiteralSize: number;
  /** Octets of one whole command, lines and literals together (default: one literal and four lines). */
  readonly maxCommandSize: number;
  /** Octets of an over-limit LITERAL+ literal read and dropped before giving up on the connection. */
  readonly maxDiscardSize: number;
}

export interface ReaderOptions {
  /**
   * Called as a literal of a well-formed command starts (after accept() for `{n}`, at the marker for
   * `{n+}`): a sink returned takes its bytes as they arrive (the frame then holds only the size), so a large
   * APPEND need not sit in memory; undefined keeps it in the frame.
   */
  readonly openLiteral?: (start: LiteralStart) => LiteralSink | undefined;
}

export const DEFAULT_MAX_LINE_LENGTH = 65_536;
export const DEFAULT_MAX_LITERAL_SIZE = 10_240_000;
export const DEFAULT_MAX_DISCARD_SIZE = 64 * 1024 * 1024;

export function readerLimits(partial: Partial<ReaderLimits> = {}): ReaderLimits {
  const maxLineLength = partial.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const maxLiteralSize = partial.maxLiteralSize ?? DEFAULT_MAX_LITERAL_SIZE;
  return {
    maxLineLength,
    maxLiteralSize,
    maxCommandSize: partial.maxCommandSize ?? maxLiteralSize + 4 * maxLineLength,
    maxDiscardSize: partial.maxDiscardSize ?? Math.max(DEFAULT_MAX_DISCARD_SIZE, maxLiteralSize),
  };
}

/** Bytes kept of a line too long to keep: its start (for the tag) and its end (for a literal marker). */
const HEAD_KEPT = 256;
const TAIL_KEPT = 64;
/** A partial-line buffer larger than this is let go once its line ends (idle sessions stay small). */
const LINE_BUFFER_KEPT = 4096;
const EMPTY = Buffer.alloc(0);

type State = 'line' | 'literal' | 'await' | 'skip' | 'dead';

/** The command being read. */
interface Pending {
  segments: FrameSegment[];
  /** Wire octets of the command read so far. */
  offset: number;
  tag: string | undefined;
  name: string | undefined;
  argsOffset: number;
  literals: number;
  /** Set once the command is known bad: the rest of it is read (to stay in step) and dropped. */
  error: ReaderError | undefined;
}

function newPending(): Pending {
  return { segments: [], offset: 0, tag: undefined, name: undefined, argsOffset: 0, literals: 0, error: undefined };
}

/** A literal marker `{digits}` or `{digits+}` ending `text`. `size` is Infinity past 2^53. */
interface Marker {
  readonly size: number;
  readonly nonSync: boolean;
  /** Octets of the marker, `{` to `}`. */
  readonly length: number;
}

/**
 * The marker ending `text`, if any. `truncated`: `text` is only the end of a longer line, so a run of
 * digits reaching its start may be the end of a marker whose `{` was not kept: then it counts as a marker
 * of unknown (infinite) size, so that its literal's bytes are never read as commands.
 */
export function literalMarker(text: Buffer, truncated = false): Marker | undefined {
  let i = text.length - 1;
  if (i < 0 || text[i] !== 0x7d) return undefined; // '}'
  i--;
  let nonSync = false;
  if (i >= 0 && text[i] === 0x2b) {
    nonSync = true;
    i--;
  }
  const digitsEnd = i + 1;
  while (i >= 0 && text[i]! >= 0x30 && text[i]! <= 0x39) i--;
  const digitsStart = i + 1;
  if (i < 0 && truncated) return { size: Infinity, nonSync, length: text.length };
  if (digitsStart === digitsEnd || i < 0 || text[i] !== 0x7b) return undefined;
  let first = digitsStart;
  while (first < digitsEnd - 1 && text[first] === 0x30) first++;
  const size = digitsEnd - first > 15 ? Infinity : Number(text.toString('latin1', first, digitsEnd));
  return { size, nonSync, length: text.length - i };
}

export class CommandReader {
  /** The limits in force (maxLiteralSize may be lowered by setLiteralLimit). */
  limits: ReaderLimits;
  private readonly fullLimits: ReaderLimits;
  private state: State = 'line';
  private readonly input: Buffer[] = [];
  private inputPos = 0;
  /** The partial line so far (a growing buffer: one copy per byte however small the chunks). */
  private lineBuf: Buffer = EMPTY;
  private lineLength = 0;
  private overflow: { head: Buffer; tail: Buffer } | undefined;
  private remaining = 0;
  /** The literal being read, allocated at its announced size (filled as bytes come). */
  private literalBuf: Buffer = EMPTY;
  private literalFill = 0;
  private literalNonSync = false;
  private literalSize = 0;
  private sink: LiteralSink | undefined;
  private cmd: Pending = newPending();
  private readonly openLiteral: ReaderOptions['openLiteral'];

  constructor(limits: Partial<ReaderLimits> = {}, options: ReaderOptions = {}) {
    this.limits = this.fullLimits = readerLimits(limits);
    this.openLiteral = options.openLiteral;
  }

  /**
   * Lowers the literal limit to `max`, or restores the configured one (undefined): IMAP's pre-login limit,
   * raised at login. Under a lowered limit nothing is discarded: a `{n}` over it is refused unread as
   * usual, but a `{n+}` over it is fatal at once ('literal-overflow') instead of read and dropped — before
   * login nobody may make the server read megabytes, and Dovecot's imap-login too disconnects on a literal
   * too large. The command limit stays as configured.
   */
  setLiteralLimit(max: number | undefined): void {
    this.limits =
      max === undefined ? this.fullLimits : { ...this.fullLimits, maxLiteralSize: Math.min(max, this.fullLimits.maxLiteralSize), maxDiscardSize: 0 };
  }

  /** Waiting for accept() or refuse() on a `{n}` literal: the caller should stop reading the socket. */
  get awaitingDecision(): boolean {
    // While it is true, input is only queued: the caller pauses the socket (a client may not send the
    // literal before "+", so anything queued here is at most what one read delivered).
    return this.state === 'await';
  }

  /** After a fatal error: nothing more is read. */
  get dead(): boolean {
    return this.state === 'dead';
  }

  /** Octets received and not yet consumed (they wait behind a literal decision). */
  get buffered(): number {
    let n = 0 - this.inputPos;
    for (const b of this.input) n += b.length;
    return n;
  }

  /**
   * The session accepted the announced literal (and wrote "+ "): read its bytes. Returns the events the
   * input already held, up to `max` (0 in pull mode: take them with next()).
   */
  accept(max = Infinity): ReaderEvent[] {
    if (this.state !== 'await') throw new Error('CommandReader.accept() without a literal waiting');
    this.startLiteral();
    return this.process(max);
  }

  /**
   * The session refused the announced literal (and answered the tag): the command is over. A client that
   * sent the bytes anyway, without waiting for "+", broke the protocol: they are read as the next line.
   */
  refuse(max = Infinity): ReaderEvent[] {
    if (this.state !== 'await') throw new Error('CommandReader.refuse() without a literal waiting');
    this.state = 'line';
    this.cmd = newPending();
    return this.process(max);
  }

  /** Push mode: adds `chunk` and returns every event the input now completes. */
  feed(chunk: Buffer): ReaderEvent[] {
    this.push(chunk);
    return this.process(Infinity);
  }

  /**
   * Pull mode: push() adds input, next() reads until one event is complete (undefined when the input runs
   * out, a literal decision is pending, or the reader is dead). A session that handles one command at a
   * time pauses the socket while `buffered` is large instead of queueing frames.
   */
  push(chunk: Buffer): void {
    if (this.state !== 'dead' && chunk.length > 0) this.input.push(chunk);
  }

  next(): ReaderEvent | undefined {
    return this.process(1)[0];
  }

  /** Reads input until it runs out, a decision is pending, or `max` events (each line ends at most one). */
  private process(max: number): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    while (events.length < max && this.input.length > 0 && this.state !== 'await' && this.state !== 'dead') {
      const chunk = this.input[0]!;
      if (this.inputPos >= chunk.length) {
        this.input.shift();
        this.inputPos = 0;
        continue;
      }
      if (this.state === 'line') this.readLine(chunk, events);
      else this.readLiteral(chunk);
    }
    return events;
  }

  private consumed(chunk: Buffer, upTo: number): void {
    this.inputPos = upTo;
    if (upTo >= chunk.length) {
      this.input.shift();
      this.inputPos = 0;
    }
  }

  /** Reading the literal of `remaining` octets announced last: into the frame or into a sink. */
  private startLiteral(): void {
    this.state = 'literal';
    this.literalSize = this.remaining;
    const cmd = this.cmd;
    this.sink = this.openLiteral?.({ tag: cmd.tag!, name: cmd.name!, size: this.remaining, index: cmd.literals - 1, nonSync: this.literalNonSync });
    // Allocated whole at once (the size is within the limits): a literal trickled in one-byte reads costs
    // its size, not an object per read. Large allocations are committed by the OS only as they are filled.
    this.literalBuf = this.sink === undefined && this.remaining > 0 ? Buffer.allocUnsafe(this.remaining) : EMPTY;
    this.literalFill = 0;
    if (this.remaining === 0) this.literalDone();
  }

  private readLiteral(chunk: Buffer): void {
    const take = Math.min(this.remaining, chunk.length - this.inputPos);
    if (this.state === 'literal' && take > 0) {
      const part = chunk.subarray(this.inputPos, this.inputPos + take);
      if (this.sink !== undefined) this.sink(part);
      else this.literalFill += part.copy(this.literalBuf, this.literalFill);
    }
    this.remaining -= take;
    this.cmd.offset += take;
    this.consumed(chunk, this.inputPos + take);
    if (this.remaining === 0) this.literalDone();
  }

  private literalDone(): void {
    if (this.state === 'literal') {
      const sunk = this.sink !== undefined;
      const size = this.literalSize;
      this.cmd.segments.push({ kind: 'literal', data: this.literalBuf, size, sunk, offset: this.cmd.offset - size, nonSync: this.literalNonSync });
      this.literalBuf = EMPTY;
      this.sink = undefined;
    }
    this.state = 'line';
  }

  private readLine(chunk: Buffer, events: ReaderEvent[]): void {
    const start = this.inputPos;
    const lf = chunk.indexOf(0x0a, start);
    const end = lf < 0 ? chunk.length : lf;
    const piece = chunk.subarray(start, end);
    this.consumed(chunk, lf < 0 ? chunk.length : lf + 1);
    // The common case: a whole line in one chunk, taken from it directly.
    if (lf >= 0 && this.lineLength === 0 && this.overflow === undefined && piece.length <= this.limits.maxLineLength + 1) {
      this.endOfLine(piece, events);
      return;
    }
    if (this.overflow !== undefined) {
      // The head is the line's first HEAD_KEPT bytes whatever the chunking, the tail its last TAIL_KEPT.
      if (this.overflow.head.length < HEAD_KEPT) {
        this.overflow.head = Buffer.concat([this.overflow.head, piece.subarray(0, HEAD_KEPT - this.overflow.head.length)]);
      }
      this.overflow.tail = keepTail(this.overflow.tail, piece);
      this.lineLength += piece.length;
    } else if (this.lineLength + piece.length > this.limits.maxLineLength + 1) {
      // One byte more than the limit may be the CR of the line end; past that the line is too long.
      const all = Buffer.concat([this.lineBuf.subarray(0, this.lineLength), piece]);
      this.overflow = { head: Buffer.from(all.subarray(0, HEAD_KEPT)), tail: Buffer.from(all.subarray(Math.max(0, all.length - TAIL_KEPT))) };
      this.lineLength += piece.length;
      this.lineBuf = EMPTY;
    } else {
      this.appendLine(piece);
    }
    if (lf >= 0) this.endOfLine(this.overflow === undefined ? this.lineBuf.subarray(0, this.lineLength) : undefined, events);
  }

  private appendLine(piece: Buffer): void {
    const need = this.lineLength + piece.length;
    if (need > this.lineBuf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(Math.max(256, this.lineBuf.length * 2), this.limits.maxLineLength + 1)));
      this.lineBuf.copy(grown, 0, 0, this.lineLength);
      this.lineBuf = grown;
    }
    piece.copy(this.lineBuf, this.lineLength);
    this.lineLength = need;
  }

  /** A line ended: `line` is its bytes before the LF, or undefined when it was too long to keep. */
  private endOfLine(line: Buffer | undefined, events: ReaderEvent[]): void {
    const cmd = this.cmd;
    const lineStart = cmd.offset;
    const overflow = this.overflow;
    let text: Buffer;
    let contentLength: number;
    let eol = 1;
    if (line !== undefined) {
      if (line.length > 0 && line[line.length - 1] === 0x0d) {
        line = line.subarray(0, line.length - 1);
        eol = 2;
      }
      contentLength = line.length;
      // Copy: the frame must not pin (or see later changes to) the caller's chunk or the line buffer.
      text = Buffer.from(line);
    } else {
      let tail = overflow!.tail;
      if (tail.length > 0 && tail[tail.length - 1] === 0x0d) {
        tail = tail.subarray(0, tail.length - 1);
        eol = 2;
      }
      text = tail;
      contentLength = this.lineLength - (eol - 1);
    }
    if (this.lineBuf.length > LINE_BUFFER_KEPT) this.lineBuf = EMPTY;
    this.lineLength = 0;
    this.overflow = undefined;
    cmd.offset += contentLength + eol;

    const first = cmd.segments.length === 0 && cmd.literals === 0 && cmd.error === undefined;
    if (first) {
      // A head holding the whole line still has the CR of the line end.
      const head = overflow === undefined ? text : overflow.head.subarray(0, Math.min(overflow.head.length, contentLength));
      this.parseStart(head, cmd);
    }
    if (cmd.error === undefined && (overflow !== undefined || contentLength > this.limits.maxLineLength)) {
      cmd.error = this.error('line-too-long', `line longer than ${this.limits.maxLineLength} octets`, lineStart, cmd.tag);
    }
    if (cmd.error === undefined && cmd.offset > this.limits.maxCommandSize) {
      cmd.error = this.error('command-too-big', `command longer than ${this.limits.maxCommandSize} octets`, lineStart, cmd.tag, true);
    }
    const marker = literalMarker(text, overflow !== undefined && contentLength > text.length);
    if (cmd.error === undefined) {
      const bytes = marker === undefined ? text : text.subarray(0, text.length - marker.length);
      cmd.segments.push({ kind: 'text', bytes, offset: lineStart });
    }
    if (marker === undefined) {
      this.finish(events);
      return;
    }
    cmd.literals++;
    const markerAt = lineStart + contentLength - marker.length;
    if (cmd.error === undefined && !this.fits(cmd, marker.size)) {
      cmd.error =
        marker.size > this.limits.maxLiteralSize
          ? this.error('literal-too-big', `literal larger than ${this.limits.maxLiteralSize} octets`, markerAt, cmd.tag, true)
          : this.error('command-too-big', `command longer than ${this.limits.maxCommandSize} octets`, markerAt, cmd.tag, true);
    }
    if (cmd.error !== undefined) {
      if (!marker.nonSync) {
        // The client waits for a "+" that never comes: it will not send the bytes.
        this.finish(events);
      } else if (marker.size <= this.limits.maxDiscardSize || this.fits(cmd, marker.size)) {
        // A literal within the limits after an earlier error (a bad command name, say) is read and dropped
        // as it would have been read: only one over the limits meets the discard cap (0 before login).
        this.remaining = marker.size;
        this.state = marker.size === 0 ? 'line' : 'skip';
      } else {
        this.state = 'dead';
        this.cmd = newPending();
        const overflow =
          marker.size > this.limits.maxLiteralSize
            ? `literal larger than ${Math.max(this.limits.maxDiscardSize, this.limits.maxLiteralSize)} octets`
            : `command longer than ${this.limits.maxCommandSize} octets`;
        events.push({ type: 'error', error: this.error('literal-overflow', overflow, markerAt, cmd.tag, true, true) });
      }
      return;
    }
    this.remaining = marker.size;
    this.literalNonSync = marker.nonSync;
    if (marker.nonSync) {
      this.startLiteral();
      return;
    }
    this.state = 'await';
    const announcement: LiteralAnnouncement = {
      tag: cmd.tag!,
      name: cmd.name!,
      size: marker.size,
      index: cmd.literals - 1,
      segments: cmd.segments.slice(),
      argsOffset: cmd.argsOffset,
    };
    events.push({ type: 'literal', announcement });
  }

  /** Tag and command name from the first line: an error on the command when they are not valid. */
  private parseStart(text: Buffer, cmd: Pending): void {
    let i = 0;
    while (i < text.length && text[i] !== 0x20) i++;
    const tagEnd = i;
    let tagOk = tagEnd > 0;
    for (let k = 0; k < tagEnd && tagOk; k++) tagOk = isTagChar(text[k]!);
    if (!tagOk) {
      cmd.error = this.error('bad-tag', 'expected a tag (letters, digits and most punctuation) at column 0', 0, undefined);
      return;
    }
    cmd.tag = text.toString('latin1', 0, tagEnd);
    if (i >= text.length) {
      cmd.error = this.error('bad-command', `expected SP and a command name at column ${tagEnd}`, tagEnd, cmd.tag);
      return;
    }
    i++;
    const nameStart = i;
    while (i < text.length && text[i] !== 0x20 && isAtomChar(text[i]!)) i++;
    if (i === nameStart || (i < text.length && text[i] !== 0x20)) {
      cmd.error = this.error('bad-command', `expected a command name at column ${i}`, i, cmd.tag);
      return;
    }
    cmd.name = text.toString('latin1', nameStart, i).toUpperCase();
    cmd.argsOffset = i;
  }

  private finish(events: ReaderEvent[]): void {
    const cmd = this.cmd;
    this.cmd = newPending();
    this.state = 'line';
    if (cmd.error !== undefined) {
      events.push({ type: 'error', error: cmd.error });
      return;
    }
    const frame: CommandFrame = { tag: cmd.tag!, name: cmd.name!, segments: cmd.segments, argsOffset: cmd.argsOffset, size: cmd.offset };
    events.push({ type: 'command', frame });
  }

  /** A literal of `size` after what `cmd` holds keeps within the literal and the command limits. */
  private fits(cmd: Pending, size: number): boolean {
    return size <= this.limits.maxLiteralSize && cmd.offset + size <= this.limits.maxCommandSize;
  }

  private error(kind: ReaderErrorKind, message: string, position: number, tag: string | undefined, tooBig = false, fatal = false): ReaderError {
    return { kind, tag, fatal, error: new ParseError(message, position, tooBig ? 'TOOBIG' : undefined) };
  }
}

function keepTail(tail: Buffer, piece: Buffer): Buffer {
  if (piece.length >= TAIL_KEPT) return Buffer.from(piece.subarray(piece.length - TAIL_KEPT));
  const joined = Buffer.concat([tail, piece]);
  return joined.length > TAIL_KEPT ? Buffer.from(joined.subarray(joined.length - TAIL_KEPT)) : joined;
}
