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

/** An offset found in a slice that starts at `shift`, as an offset in the whole (-1: none). */
function at(found: number, shift: number): number {
  return found < 0 ? -1 : found + shift;
}

/**
 * Which fields a caller wants, by lower-case name (up to a NUL, as HeaderField.name): the others, and
 * lines without ':', are skipped without making strings of them.
 */
export type FieldFilter = (lowerName: string) => boolean;

/**
 * The fields of the header block buf[start, end) (the blank line that ends a header, when included,
 * yields nothing; so does anything after it). With `wanted`, only the fields with a ':' it accepts.
 */
export function parseHeaderBlock(buf: Buffer, start: number, end: number, wanted?: FieldFilter): HeaderField[] {
  // only the header is made into text (a caller may pass a whole message): up to its blank line
  // (a blank line counts only when its LF is inside the block, as headerFields reads it)
  let stop = end;
  if ((start < end && buf[start] === LF) || (start + 1 < end && buf[start] === CR && buf[start + 1] === LF)) stop = start;
  else {
    // searched within the block only: from `start` to the buffer's end, a header without the other
    // kind of blank line (or a part's header, which has none) would cost the whole message per call
    const block = buf.subarray(start, end);
    const lflf = block.indexOf('\n\n', 0, 'latin1');
    const lfcrlf = block.indexOf('\n\r\n', 0, 'latin1');
    if (lflf >= 0) stop = start + lflf + 1;
    if (lfcrlf >= 0) stop = Math.min(stop, start + lfcrlf + 1);
  }
  return headerFields(buf.toString('latin1', start, Math.max(start, stop)), 0, Math.max(0, stop - start), wanted, start);
}

/**
 * parseHeaderBlock over the byte string `s` (one char per byte) from `start` to `end`; field offsets are
 * those in `s` plus `shift`. Strings, not a Buffer: String.prototype.indexOf is a builtin call, while
 * Buffer.prototype.indexOf goes through JavaScript checks first — most of the cost of a line before the
 * JIT has compiled the caller (the first FETCH of a process parses a thousand messages cold). `bytes`:
 * the same bytes as a Buffer (offsets as in `s`), to copy values from, when `s` is a whole message that
 * the values would otherwise keep alive (a slice of a string holds on to all of it).
 */
export function headerFields(s: string, start: number, end: number, wanted?: FieldFilter, shift = 0, bytes?: Buffer): HeaderField[] {
  const text = (a: number, b: number): string => (bytes === undefined ? s.slice(a, b) : bytes.toString('latin1', a, b));
  const fields: HeaderField[] = [];
  let pos = start;
  // LF, ':' and NUL are searched for in the header alone, `h` (a slice shares s's memory; offsets in it are
  // less `start`): on s, a search for one the header lacks runs to the end of the text — the whole
  // message, once per part's header
  const h = start === 0 && end === s.length ? s : s.slice(start, end);
  // the next ':' and NUL at or after pos, found once and reused while pos has not passed them (a search
  // per line could run to the end of the header each time: quadratic on a header of lines without ':')
  let nextColon = -2;
  let nextNul = -2;
  while (pos < end) {
    const fieldStart = pos;
    // the field's first line
    let lf = at(h.indexOf('\n', pos - start), start);
    let lineEnd = lf < 0 ? end : lf + 1;
    let contentEnd = lf < 0 ? end : lf > pos && s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
    if (contentEnd === pos && lf >= 0) break; // the blank line: end of header
    if (nextColon !== -1 && nextColon < pos) nextColon = at(h.indexOf(':', pos - start), start);
    const colon = nextColon >= 0 && nextColon < contentEnd ? nextColon : -1;
    let name: string;
    let value: string | undefined = '';
    if (colon < 0) {
      name = s.slice(pos, contentEnd);
      if (wanted !== undefined) value = undefined;
    } else {
      let nameEnd = colon;
      while (nameEnd > pos && isLwsp(s.charCodeAt(nameEnd - 1))) nameEnd--;
      // Dovecot's names are C strings: a NUL ends the name
      if (nextNul !== -1 && nextNul < pos) nextNul = at(h.indexOf('\0', pos - start), start);
      name = s.slice(pos, nextNul >= 0 && nextNul < nameEnd ? nextNul : nameEnd);
      if (wanted !== undefined && !wanted(name.toLowerCase())) value = undefined;
      else {
        let skip = colon + 1;
        while (skip < contentEnd && isLwsp(s.charCodeAt(skip))) skip++;
        if (skip === contentEnd && contentEnd > colon + 1) skip = colon + 2; // all whitespace: only one is skipped
        value = text(skip, contentEnd);
      }
    }
    pos = lineEnd;
    // continuation lines
    while (lf >= 0 && pos < end && isLwsp(s.charCodeAt(pos))) {
      lf = at(h.indexOf('\n', pos - start), start);
      lineEnd = lf < 0 ? end : lf + 1;
      contentEnd = lf < 0 ? end : lf > pos && s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
      if (value !== undefined) value += '\n' + text(pos, contentEnd);
      pos = lineEnd;
    }
    if (value !== undefined) fields.push({ name, value, start: fieldStart + shift, end: pos + shift, hasColon: colon >= 0 });
  }
  return fields;
}

/** The first field named `name` (case-insensitive), or undefined. */
export function findField(fields: readonly HeaderField[], name: string): HeaderField | undefined {
  const lower = name.toLowerCase();
  return fields.find((f) => f.name.toLowerCase() === lower);
}
