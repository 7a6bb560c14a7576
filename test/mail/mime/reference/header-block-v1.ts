/**
 * FROZEN REFERENCE, not used by the product: src/mail/mime/header-block.ts as it was before the cold-FETCH work of
 * session 10 (a line-by-line scan, every header field made into strings). fast-path.test.ts checks that
 * the current parser gives the same tree for the same bytes. Never change it to make that test pass.
 */
/**
 * A header block split into fields the way Dovecot's header parser does it (message-header-parser.c,
 * with the flags its mail index uses: initial whitespace of a value skipped, CRs dropped from folded
 * values): a field is a line and its continuation lines (those starting with SP or TAB); the name is
 * what precedes the first ':' less trailing whitespace (the whole line when there is no ':'); the
 * value is what follows, continuation lines joined with LF and kept as written. Values are byte
 * strings (one char per byte), nothing decoded.
 */

export interface HeaderField {
  /** the name as written (up to a NUL, as Dovecot reads it) */
  readonly name: string;
  /** the unfolded value (continuation lines joined with LF); '' when the line has no ':' */
  readonly value: string;
  /** offset of the field's first byte in the buffer */
  readonly start: number;
  /** offset just past its last line's LF (or the block end) */
  readonly end: number;
  /** the line had a ':' */
  readonly hasColon: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function isLwsp(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * The fields of the header block buf[start, end) (the blank line that ends a header, when included,
 * yields nothing; so does anything after it).
 */
export function parseHeaderBlock(buf: Buffer, start: number, end: number): HeaderField[] {
  const fields: HeaderField[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    // the field's first line
    let lf = buf.indexOf(LF, pos);
    if (lf < 0 || lf >= end) lf = -1;
    let lineEnd = lf < 0 ? end : lf + 1;
    let contentEnd = lf < 0 ? end : lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
    if (contentEnd === pos && lf >= 0) break; // the blank line: end of header
    const line = buf.toString('latin1', pos, contentEnd);
    const colon = line.indexOf(':');
    let name: string;
    let value = '';
    if (colon < 0) {
      name = line;
    } else {
      let nameEnd = colon;
      while (nameEnd > 0 && isLwsp(line.charCodeAt(nameEnd - 1))) nameEnd--;
      name = line.slice(0, nameEnd);
      // Dovecot's names are C strings: a NUL ends the name
      const nul = name.indexOf('\0');
      if (nul >= 0) name = name.slice(0, nul);
      value = line.slice(colon + 1);
      let skip = 0;
      while (skip < value.length && isLwsp(value.charCodeAt(skip))) skip++;
      if (skip === value.length && value.length > 0) skip = 1; // all whitespace: only one is skipped
      value = value.slice(skip);
    }
    pos = lineEnd;
    // continuation lines
    while (lf >= 0 && pos < end && isLwsp(buf[pos])) {
      lf = buf.indexOf(LF, pos);
      if (lf < 0 || lf >= end) lf = -1;
      lineEnd = lf < 0 ? end : lf + 1;
      contentEnd = lf < 0 ? end : lf > pos && buf[lf - 1] === CR ? lf - 1 : lf;
      value += '\n' + buf.toString('latin1', pos, contentEnd);
      pos = lineEnd;
    }
    fields.push({ name, value, start: fieldStart, end: pos, hasColon: colon >= 0 });
  }
  return fields;
}

/** The first field named `name` (case-insensitive), or undefined. */
export function findField(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower);
}
