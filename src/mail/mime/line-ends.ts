/**
 * LF → CRLF for sending stored messages (the opposite of store/maildir/crlf-to-lf.ts): IMAP and POP3
 * send CRLF and count sizes and partial offsets in CRLF octets ("virtual" sizes, as Dovecot does for
 * Maildir). A bare LF gets a CR before it; CRLF and a bare CR pass unchanged; NUL may become 0x80
 * (IMAP literals must not hold NUL; Dovecot does the same). `skip` and `length` cut the converted
 * stream, so a partial fetch can start between a CR and its LF.
 */
import { Transform, type TransformCallback } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;

/** CRLF size of buf[start, end) (a LF at `start` counts as bare unless buf[start-1] is CR). */
export function crlfSize(buf: Buffer, start = 0, end = buf.length): number {
  let extra = 0;
  let i = buf.indexOf(LF, start);
  while (i >= 0 && i < end) {
    if (i === 0 || buf[i - 1] !== CR) extra++;
    i = buf.indexOf(LF, i + 1);
  }
  return end - start + extra;
}

export interface CrlfOptions {
  /** converted bytes to drop first */
  readonly skip?: number;
  /** converted bytes to give at most (after skip) */
  readonly length?: number;
  /** NUL → 0x80 */
  readonly nulTo80?: boolean;
  /** the byte before the first chunk was a CR (a range that starts between CR and LF) */
  readonly afterCr?: boolean;
}

/** buf[start, end) converted, then cut to [skip, skip + length). */
export function toCrlf(buf: Buffer, start = 0, end = buf.length, options: CrlfOptions = {}): Buffer {
  const conv = new CrlfConverter({ ...options, afterCr: start > 0 && buf[start - 1] === CR });
  const out = conv.push(buf.subarray(start, end));
  return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
}

/** The incremental converter both forms use. */
export class CrlfConverter {
  private prevCr: boolean;
  private skip: number;
  private left: number;
  private readonly nulTo80: boolean;

  constructor(options: CrlfOptions = {}) {
    this.prevCr = options.afterCr ?? false;
    this.skip = options.skip ?? 0;
    this.left = options.length ?? Number.POSITIVE_INFINITY;
    this.nulTo80 = options.nulTo80 ?? false;
  }

  /** true once `length` bytes have been given */
  get done(): boolean {
    return this.left <= 0;
  }

  /** Converts one chunk; returns the output pieces (possibly none). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let from = 0;
    const emit = (b: Buffer): void => {
      if (this.left <= 0 || b.length === 0) return;
      let piece = b;
      if (this.skip > 0) {
        if (piece.length <= this.skip) {
          this.skip -= piece.length;
          return;
        }
        piece = piece.subarray(this.skip);
        this.skip = 0;
      }
      if (piece.length > this.left) piece = piece.subarray(0, this.left);
      this.left -= piece.length;
      out.push(this.nulTo80 && piece.includes(0) ? Buffer.from(piece.map((c) => (c === 0 ? 0x80 : c))) : piece);
    };
    let i = chunk.indexOf(LF);
    while (i >= 0 && this.left > 0) {
      const bare = i === 0 ? !this.prevCr : chunk[i - 1] !== CR;
      if (bare) {
        emit(chunk.subarray(from, i));
        emit(CRLF);
        from = i + 1;
      }
      i = chunk.indexOf(LF, i + 1);
    }
    emit(chunk.subarray(from));
    if (chunk.length > 0) this.prevCr = chunk[chunk.length - 1] === CR;
    return out;
  }
}

const CRLF = Buffer.from('\r\n');

/** A stream form for large messages (BODY[]<partial>, POP3 RETR/TOP). */
export class CrlfStream extends Transform {
  private readonly conv: CrlfConverter;

  constructor(options: CrlfOptions = {}) {
    super();
    this.conv = new CrlfConverter(options);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.conv.done) for (const piece of this.conv.push(chunk)) this.push(piece);
    done();
  }
}
