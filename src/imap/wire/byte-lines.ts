/**
 * Response text written straight into byte chunks: decimal numbers and pre-encoded pieces, for responses
 * of many lines made of little else (FETCH FLAGS of a whole mailbox). No string per line, nothing to
 * flatten before it becomes bytes, and no garbage beyond the chunks themselves, which go to the socket as
 * they are. The writer keeps the chunk and the offset in locals (`putBytes`, `putDecimal` return the next
 * offset) and asks `ByteChunks.room` before each line, so a line is a few plain function calls.
 */

/** Bytes per chunk: about what ResponseWriter hands the socket at once. */
export const CHUNK_BYTES = 64 * 1024;

const ZERO = 0x30;
const NONE = Buffer.alloc(0);

/**
 * Writes `b` at `at`; the offset after it. Byte by byte: the pieces are short (a flag list at most), and a
 * native copy, inlined by V8 at each call site, would make the writer's optimised code slow to compile.
 */
export function putBytes(buf: Buffer, at: number, b: Uint8Array): number {
  const n = b.length;
  for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
  return at + n;
}

/** The most bytes putDecimal writes (2^53 has 16 digits). */
export const DECIMAL_MAX = 16;

/** Writes a non-negative integer in decimal at `at`; the offset after it. */
export function putDecimal(buf: Buffer, at: number, n: number): number {
  if (n > 0x3fffffff || n < 0 || (n | 0) !== n) {
    // Loud rather than garbage bytes or a number cut short by the room reserved for a line.
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a number IMAP can send: ${n}`);
    return at + buf.write(String(n), at, 'latin1');
  }
  let end = at + 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) end++;
  let p = end;
  do {
    const q = (n / 10) | 0;
    buf[--p] = ZERO + n - q * 10;
    n = q;
  } while (n > 0);
  return end;
}

/**
 * Chunks being written: `buf` up to `at` is written; `room` moves to a new chunk when needed. What take()
 * hands out is never written again (the rest of its chunk is, by the next lines).
 */
export class ByteChunks {
  buf: Buffer = NONE;
  at = 0;
  /** Where the part of `buf` not taken yet starts. */
  private start = 0;
  private readonly done: Buffer[] = [];

  /**
   * `firstBytes`: the first chunk's size, when the caller knows the response is short (a FETCH of one
   * message after STORE need not hold 64 kB until the socket has written it); later chunks are `chunkBytes`.
   */
  constructor(
    private readonly chunkBytes = CHUNK_BYTES,
    private nextBytes = chunkBytes,
  ) {}

  /** Makes room for `n` more bytes after `at` (a new chunk when this one lacks it); the chunk to write in. */
  room(n: number): Buffer {
    if (this.at + n <= this.buf.length) return this.buf;
    if (this.at > this.start) this.done.push(this.buf.subarray(this.start, this.at));
    this.buf = Buffer.allocUnsafe(Math.max(this.nextBytes, n));
    this.nextBytes = this.chunkBytes;
    this.at = 0;
    this.start = 0;
    return this.buf;
  }

  /** The bytes written since the last take, in one or more chunks. */
  take(): Buffer[] {
    const out = this.done.splice(0);
    if (this.at > this.start) out.push(this.buf.subarray(this.start, this.at));
    this.start = this.at;
    return out;
  }
}
