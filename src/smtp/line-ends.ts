/**
 * Line ends of the message as received. smtp-server passes DATA through as sent (dot-stuffing removed,
 * the end only at CRLF.CRLF), so a bare LF reaches us; Postfix (smtpd_forbid_bare_newline = normalize,
 * its default since 3.9) takes a bare LF as a line end, and so do we: it becomes CRLF, so the queue file
 * and the filters see CRLF lines only. A bare CR is kept as data inside its line, as Postfix keeps it.
 */

const CR = 0x0d;
const LF = 0x0a;

/** Streaming: call push() for each chunk in order; a CR at the end of one chunk pairs with an LF opening the next. */
export class LineEndNormalizer {
  private lastWasCr = false;

  push(chunk: Buffer): Buffer {
    let bare = 0;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const before = i === 0 ? this.lastWasCr : chunk[i - 1] === CR;
      if (!before) bare++;
    }
    const wasCr = this.lastWasCr;
    if (chunk.length > 0) this.lastWasCr = chunk[chunk.length - 1] === CR;
    if (bare === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + bare);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF && !(i === 0 ? wasCr : chunk[i - 1] === CR)) out[o++] = CR;
      out[o++] = b;
    }
    return out;
  }
}

/** The whole of `data` normalised at once (tests, small inputs). */
export function normalizeLineEnds(data: Buffer): Buffer {
  return new LineEndNormalizer().push(data);
}
