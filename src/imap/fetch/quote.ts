/**
 * IMAP strings as Dovecot writes them in FETCH data (src/lib-imap/imap-quote.c, behaviour reproduced,
 * code written here), so our BODYSTRUCTURE/ENVELOPE match Dovecot's byte for byte. RFC 3501 §4.3 lets
 * a server send any string quoted or as a literal; Dovecot's choice: quoted unless it holds CR, LF, an
 * 8-bit byte, or more than 4 quoted-specials ('"', '\'), then a literal. Input and output are byte
 * strings (one char per byte): literals count bytes.
 */

const QUOTED_MAX_ESCAPES = 4;

function literal(s: string): string {
  return `{${s.length}}\r\n${s}`;
}

/** Quoted, with CR, LF and 8-bit bytes dropped and specials escaped. */
export function quoted(s: string): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c >= 0x80 || c === 0x22 || c === 0x5c) break;
  }
  // the usual case: nothing to drop or escape, no copy character by character
  if (i === s.length) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c >= 0x80) continue;
    if (c === 0x22 || c === 0x5c) out += '\\';
    out += s[i];
  }
  return out + '"';
}

/** A C string ends at its first NUL: Dovecot's strings do. */
function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/*
 * What makes a string other than plainly quoted (a NUL, a quoted-special, CR, LF, an 8-bit byte), and, for
 * imapStringForHumans, what it cleans. A regular expression finds them in native code from its first use:
 * a loop over the characters costs far more before the JIT has compiled it (a process's first FETCH).
 */
const NOT_PLAIN = /[\0"\\\r\n\x80-\uffff]/;
const NOT_FOR_HUMANS = /[\0\t\r\n"\\\x80-\uffff]|^ | $| {2}/;

/** string: quoted or literal, as Dovecot chooses. One pass over the value in the usual case. */
export function imapString(value: string): string {
  if (!NOT_PLAIN.test(value)) return `"${value}"`;
  let escapes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) {
      // the C string ends here, and nothing before it asked for a literal
      const s = value.slice(0, i);
      return escapes === 0 ? `"${s}"` : quoted(s);
    }
    if (c === 0x22 || c === 0x5c) {
      if (escapes++ < QUOTED_MAX_ESCAPES) continue;
      return literal(cString(value));
    }
    if (c === 0x0d || c === 0x0a || c >= 0x80) return literal(cString(value));
  }
  return escapes === 0 ? `"${value}"` : quoted(value);
}

/** nstring: NIL for null. */
export function imapNString(value: string | null): string {
  return value === null ? 'NIL' : imapString(value);
}

/** nstring with line breaks removed (a space kept between lines whose next line does not start with one). */
export function imapNStringNoLf(value: string | null): string {
  if (value === null) return 'NIL';
  const s = cString(value);
  if (!/[\r\n]/.test(s)) return imapString(s);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\r' && c !== '\n') {
      out += c;
      continue;
    }
    const next = s[i + 1];
    if (next !== undefined && next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n') out += ' ';
  }
  return imapString(out);
}

/**
 * A string "for humans" (subjects, display names): TABs, CRs and LFs become spaces, runs of spaces
 * one space, leading/trailing space dropped, NUL becomes 0x80; quoted when nothing had to change and
 * nothing needs escaping, else a literal.
 */
export function imapStringForHumans(value: string): string {
  if (!NOT_FOR_HUMANS.test(value)) return `"${value}"`;
  const src = value;
  const size = src.length;
  let removeCount = 0;
  let whitespacePrefix = true;
  let lastLwsp = true;
  let modify = false;
  let i = 0;
  for (; i < size; i++) {
    const c = src.charCodeAt(i);
    if (c === 0) {
      lastLwsp = false;
      modify = true;
    } else if (c === 0x0d || c === 0x0a || c === 0x09 || c === 0x20) {
      if (c !== 0x20) modify = true;
      if (lastLwsp) {
        modify = true;
        removeCount++;
      }
      lastLwsp = true;
    } else if (c === 0x22 || c === 0x5c) {
      modify = true;
      lastLwsp = false;
    } else {
      if (c >= 0x80) modify = true;
      lastLwsp = false;
    }
    if (!lastLwsp) whitespacePrefix = false;
  }
  if (lastLwsp && i > 0 && !whitespacePrefix) {
    modify = true;
    removeCount++;
  }
  if (!modify) return `"${src}"`;
  if (size === removeCount) return '""';
  let out = '';
  lastLwsp = true;
  whitespacePrefix = true;
  for (i = 0; i < size; i++) {
    const c = src.charCodeAt(i);
    if (c === 0) {
      out += '\x80';
      lastLwsp = false;
    } else if (c === 0x0d || c === 0x0a || c === 0x09 || c === 0x20) {
      if (!lastLwsp) out += ' ';
      lastLwsp = true;
    } else {
      lastLwsp = false;
      out += src[i];
    }
    if (!lastLwsp) whitespacePrefix = false;
  }
  if (lastLwsp && i > 0 && !whitespacePrefix) out = out.slice(0, -1);
  return `{${size - removeCount}}\r\n${out}`;
}
