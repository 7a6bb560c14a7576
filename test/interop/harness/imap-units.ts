// Splits a server's IMAP output into response units (a line with its literals) as it arrives, for tests that
// drive a server through a pipe: chunks may end anywhere, inside a line or a multi-megabyte literal, and a
// test must know when every tagged answer has come before it closes the server's input.

export class ImapUnitSplitter {
  readonly units: Buffer[] = [];
  private parts: Buffer[] = [];
  /** The current line since its start or its last literal (where a `{n}` would be). */
  private line = '';
  private literalLeft = 0;

  /** Adds a chunk; returns the units it completed. */
  push(chunk: Buffer): Buffer[] {
    const done: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - pos);
        this.parts.push(chunk.subarray(pos, pos + take));
        this.literalLeft -= take;
        pos += take;
        continue;
      }
      const lf = chunk.indexOf(0x0a, pos);
      const end = lf < 0 ? chunk.length : lf + 1;
      this.parts.push(chunk.subarray(pos, end));
      this.line += chunk.toString('latin1', pos, end);
      pos = end;
      if (lf < 0 || !this.line.endsWith('\r\n')) continue; // a bare LF does not end an IMAP line
      const literal = /\{(\d+)\}\r\n$/.exec(this.line);
      this.line = '';
      if (literal !== null) {
        this.literalLeft = Number(literal[1]); // octets, as the chunks count them
        continue;
      }
      const unit = Buffer.concat(this.parts);
      this.parts = [];
      this.units.push(unit);
      done.push(unit);
    }
    return done;
  }

  /** What came after the last complete unit (a cut-off answer), if anything. */
  rest(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** The tag of a tagged answer (`t12 OK ...`), or undefined for an untagged or continuation unit. */
export function answerTag(unit: Buffer): string | undefined {
  return /^([^\s*+]+) (?:OK|NO|BAD)\b/.exec(unit.toString('latin1', 0, 64))?.[1];
}
