/**
 * The POP3 wire codec, pure functions and small state machines over bytes (no sockets): the command line
 * reader (RFC 2449 §4: a command line is at most 255 octets with its CRLF), status lines (+OK / -ERR with an
 * RFC 2449/3206 response code), and multi-line bodies: LF line ends become CRLF (the store may keep LF) and a
 * line starting with '.' gets one more (RFC 1939 §3 byte-stuffing), chunk by chunk, so RETR streams any
 * size; TOP's cut (header, blank line, n body lines) is a second streaming step. The decoders (unstuffing,
 * the reader) are what the tests and a client use to check the encoders.
 */

export const CRLF = '\r\n';
/** RFC 2449 §4: command lines, CRLF included. */
export const MAX_COMMAND_LINE = 255;

export type LineEvent = { readonly line: Buffer } | { readonly tooLong: true };

/**
 * Splits input into lines (CRLF or a bare LF, as Dovecot accepts), without their line end. A line longer
 * than `max` octets (CRLF counted) is reported once as `tooLong` and its bytes are dropped up to its end,
 * so a flood never grows the buffer past `max`.
 */
export class LineReader {
  private partial: Buffer[] = [];
  private partialLength = 0;
  private discarding = false;

  constructor(public max = MAX_COMMAND_LINE) {}

  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(10, start);
      if (lf === -1) {
        if (!this.discarding) {
          this.partial.push(chunk.subarray(start));
          this.partialLength += chunk.length - start;
          // max octets already and no LF: the line cannot fit any more (a CR, if last, still needs its LF).
          if (this.partialLength >= this.max) {
            events.push({ tooLong: true });
            this.clear();
            this.discarding = true;
          }
        }
        break;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        this.partial.push(chunk.subarray(start, lf));
        let line = Buffer.concat(this.partial, this.partialLength + lf - start);
        if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
        events.push(line.length + 2 > this.max ? { tooLong: true } : { line });
      }
      this.clear();
      start = lf + 1;
    }
    return events;
  }

  /** Drops everything buffered (after STLS: plaintext sent behind the command must not run under TLS). */
  reset(): void {
    this.clear();
    this.discarding = false;
  }

  private clear(): void {
    this.partial = [];
    this.partialLength = 0;
  }
}

/** RFC 2449 §8 / RFC 3206 response codes. */
export type ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'AUTH' | 'SYS/TEMP' | 'SYS/PERM';

/** `+OK text` with its CRLF; text without line ends. */
export function ok(text = ''): string {
  return `+OK${text === '' ? '' : ' ' + oneLine(text)}${CRLF}`;
}

/** `-ERR [CODE] text` with its CRLF. */
export function err(text: string, code?: ResponseCode): string {
  return `-ERR ${code === undefined ? '' : `[${code}] `}${oneLine(text)}${CRLF}`;
}

/** A whole multi-line response of short text lines (CAPA, LIST, UIDL): stuffed, then the final dot. */
export function multiLine(first: string, lines: readonly string[]): string {
  return first + lines.map((l) => (l.startsWith('.') ? '.' : '') + oneLine(l) + CRLF).join('') + '.' + CRLF;
}

/** Anything a client gave us that is echoed back: one line, printable, bounded. */
export function printable(text: string, max = 40): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '...' : clean;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * Message bytes → a multi-line body: bare LF → CRLF, a '.' at a line's start doubled. `push` per chunk,
 * then `end()` for the terminator (a CRLF first when the message does not end with a line end). The output
 * does not depend on how the input is chunked.
 */
export class DotStuffer {
  private lineStart = true;
  private previousCr = false;
  /** Octets of message given out (stuffing dots and the terminator not counted; CRLF conversion counted). */
  octets = 0;

  push(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let o = 0;
    let lineStart = this.lineStart;
    let previousCr = this.previousCr;
    let added = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (lineStart && b === 0x2e) {
        out[o++] = 0x2e;
        added++;
      }
      if (b === 0x0a && !previousCr) out[o++] = 0x0d;
      out[o++] = b;
      previousCr = b === 0x0d;
      lineStart = b === 0x0a;
    }
    this.lineStart = lineStart;
    this.previousCr = previousCr;
    this.octets += o - added;
    return out.subarray(0, o);
  }

  end(): Buffer {
    return Buffer.from(this.lineStart ? `.${CRLF}` : `${CRLF}.${CRLF}`);
  }
}

/**
 * TOP's cut (RFC 1939 §7): the header, the blank line after it, then at most `lines` lines of the body.
 * `push` returns the part of the chunk to send; `done` once nothing more is wanted (the reader may stop).
 * A message without a blank line is all header and is sent whole.
 */
export class TopCutter {
  private inHeader = true;
  /** Octets of the current header line so far, and whether they are all CR (a "\r\n" line is blank). */
  private headerLineBytes = 0;
  private headerLineOnlyCr = true;
  private bodyLinesLeft: number;
  done = false;

  constructor(lines: number) {
    this.bodyLinesLeft = lines;
  }

  push(chunk: Buffer): Buffer {
    if (this.done) return chunk.subarray(0, 0);
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inHeader) {
        if (b !== 0x0a) {
          this.headerLineBytes++;
          if (b !== 0x0d) this.headerLineOnlyCr = false;
          continue;
        }
        const blank = this.headerLineBytes === 0 || (this.headerLineBytes === 1 && this.headerLineOnlyCr);
        this.headerLineBytes = 0;
        this.headerLineOnlyCr = true;
        if (!blank) continue;
        this.inHeader = false;
      } else if (b !== 0x0a) {
        continue;
      } else {
        this.bodyLinesLeft--;
      }
      if (this.bodyLinesLeft <= 0) {
        this.done = true;
        return chunk.subarray(0, i + 1);
      }
    }
    return chunk;
  }
}

/**
 * The inverse of a multi-line body (for tests and clients): the data lines up to the terminating dot, each
 * un-stuffed, joined with CRLF; `rest` is what followed the terminator, `complete` whether it was found.
 */
export function unstuff(wire: Buffer): { readonly body: Buffer; readonly complete: boolean; readonly rest: Buffer } {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < wire.length) {
    const lf = wire.indexOf('\r\n', start);
    if (lf === -1) break;
    const line = wire.subarray(start, lf);
    if (line.length === 1 && line[0] === 0x2e) return { body: Buffer.concat(parts), complete: true, rest: wire.subarray(lf + 2) };
    parts.push(line[0] === 0x2e ? line.subarray(1) : line, Buffer.from(CRLF));
    start = lf + 2;
  }
  return { body: Buffer.concat(parts), complete: false, rest: Buffer.alloc(0) };
}
