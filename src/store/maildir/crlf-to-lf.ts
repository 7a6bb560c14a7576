/**
 * CRLF → LF over a stream of chunks, a pure codec: the queue keeps messages with CRLF (the SMTP form) and a
 * Maildir holds them with LF as Dovecot's own delivery writes them. A CR that ends a chunk waits for the next
 * one; a bare CR (not followed by LF) is kept as it is.
 */
export interface LineEndConverter {
  /** The LF form of the chunk (a CR at its end is held back until the next call or end()). */
  push(chunk: Buffer): Buffer;
  /** What was held back. */
  end(): Buffer;
}

const CR = 0x0d;
const LF = 0x0a;

export function createCrlfToLf(): LineEndConverter {
  let heldCr = false;
  return {
    push(chunk) {
      const out = Buffer.allocUnsafe(chunk.length + 1);
      let n = 0;
      let i = 0;
      if (heldCr) {
        heldCr = false;
        if (chunk.length === 0) {
          heldCr = true;
          return Buffer.alloc(0);
        }
        if (chunk[0] !== LF) out[n++] = CR;
      }
      for (; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (b === CR) {
          if (i + 1 === chunk.length) {
            heldCr = true;
            break;
          }
          if (chunk[i + 1] === LF) continue; // the LF comes next and is copied then
        }
        out[n++] = b;
      }
      return out.subarray(0, n);
    },
    end() {
      const rest = heldCr ? Buffer.from([CR]) : Buffer.alloc(0);
      heldCr = false;
      return rest;
    },
  };
}

/** The size of `lfBytes` with every LF counted as CRLF: the W= (virtual size) of a Maildir name. */
export function countLf(lfBytes: Buffer): number {
  let count = 0;
  let at = lfBytes.indexOf(LF);
  while (at !== -1) {
    count++;
    at = lfBytes.indexOf(LF, at + 1);
  }
  return count;
}
