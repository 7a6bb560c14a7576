/**
 * The RFC 822/5322 and MIME lexical pieces Dovecot's header parsers are built from (comments, atoms,
 * dot-atoms, MIME tokens, quoted strings, phrases, domains), with Dovecot's return convention so the
 * callers can follow its recovery rules exactly: -1 broken, 0 at the end of the value, 1 more follows.
 * Written here from RFC 5322 §3.2 / RFC 2045 §5.1 and Dovecot's observable behaviour (src/lib-mail/
 * rfc822-parser.c), not copied. Input is a byte string (one char per byte); 8-bit bytes count as atext.
 */

/** A cursor over one header value. */
export interface Rfc822Cursor {
  readonly s: string;
  i: number;
  /** text of the last comment skipped, when wanted (a name for `addr (Name)`) */
  lastComment: string | null;
  /** what a NUL inside quoted strings, comments and domain literals becomes (null: kept) */
  readonly nul: string | null;
}

/** U+FFFD as bytes: what Dovecot puts for a NUL inside quoted text. */
export const NUL_REPLACEMENT = '\xef\xbf\xbd';

export function cursor(s: string, wantComments = false, nul: string | null = NUL_REPLACEMENT): Rfc822Cursor {
  return { s, i: 0, lastComment: wantComments ? '' : null, nul };
}

/** atext (RFC 5322) plus every 8-bit byte. */
const ATEXT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (c >= 128 || /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]/.test(ch)) ATEXT[c] = 1;
}

export function isAtext(c: number): boolean {
  return c < 256 && ATEXT[c] === 1;
}

/*
 * Runs of characters of one class, skipped by a sticky regular expression (native code from its first use)
 * rather than a loop of charCodeAt calls: the first FETCH of a process parses a thousand headers before
 * the JIT has compiled this file, and a loop per character is what costs then.
 */
const ATEXT_RUN = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\x80-\xff]*/y;
const ATEXT_OR_DOT_RUN = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\x80-\xff]*/y;
/** MIME token characters: atext less '/', '=' and '?' (tspecials), plus '.' */
const TOKEN_RUN = /[A-Za-z0-9!#$%&'*+\-^_`{|}~.\x80-\xff]*/y;
const WSP_RUN = /[ \t\r\n]*/y;

/** Moves the cursor past the run of `re`'s characters that starts there (possibly none). */
function skipRun(re: RegExp, c: Rfc822Cursor): void {
  // past the end a sticky match fails and would reset lastIndex to 0 (a cursor may be one past the end)
  if (c.i >= c.s.length) return;
  re.lastIndex = c.i;
  re.test(c.s);
  c.i = re.lastIndex;
}

function more(c: Rfc822Cursor): 0 | 1 {
  return c.i < c.s.length ? 1 : 0;
}
function at(c: Rfc822Cursor): number {
  return c.s.charCodeAt(c.i);
}

/**
 * Skips a comment (the cursor is on its '('). Its text, when wanted, is collected as Dovecot does:
 * piece by piece at escapes, NULs and line breaks, so an unterminated comment leaves what was
 * collected before its last such point.
 */
export function skipComment(c: Rfc822Cursor): -1 | 0 | 1 {
  let level = 1;
  const keep = c.lastComment !== null;
  if (keep) c.lastComment = '';
  let start = ++c.i;
  for (; c.i < c.s.length; c.i++) {
    const ch = at(c);
    if (ch === 0 && keep && c.nul !== null) {
      c.lastComment += c.s.slice(start, c.i) + c.nul;
      start = c.i + 1;
    } else if (ch === 0x28) level++;
    else if (ch === 0x29) {
      if (--level === 0) {
        if (keep) c.lastComment += c.s.slice(start, c.i);
        c.i++;
        return more(c);
      }
    } else if (ch === 0x0a && keep) {
      // folding: the (CR)LF is dropped from the comment's text
      let len = c.i - start;
      if (len > 0 && c.s.charCodeAt(start + len - 1) === 0x0d) len--;
      c.lastComment += c.s.slice(start, start + len);
      start = c.i + 1;
    } else if (ch === 0x5c) {
      c.i++;
      if (c.i >= c.s.length) return -1;
      const next = at(c);
      if (next === 0x0d || next === 0x0a || next === 0) {
        c.i--; // not an escape: the backslash stays
        continue;
      }
      if (keep) c.lastComment += c.s.slice(start, c.i - 1);
      start = c.i;
    }
  }
  return -1;
}

/** Skips whitespace (SP, TAB, CR, LF) and comments. */
export function skipLwsp(c: Rfc822Cursor): -1 | 0 | 1 {
  for (;;) {
    skipRun(WSP_RUN, c);
    if (c.i >= c.s.length || at(c) !== 0x28) break;
    if (skipComment(c) < 0) return -1;
  }
  return more(c);
}

/** atom; appends to out[0]. */
export function parseAtom(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  if (c.i >= c.s.length || !isAtext(at(c))) return -1;
  const start = c.i;
  skipRun(ATEXT_RUN, c);
  out[0] += c.s.slice(start, c.i);
  return c.i < c.s.length ? skipLwsp(c) : 0;
}

/** dot-atom, allowing whitespace around the dots (RFC 822). */
export function parseDotAtom(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  if (c.i >= c.s.length || !isAtext(at(c))) return -1;
  let start = c.i;
  for (;;) {
    skipRun(ATEXT_RUN, c);
    if (c.i >= c.s.length) break;
    if (start === c.i) return -1; // nothing after a dot
    out[0] += c.s.slice(start, c.i);
    const ret = skipLwsp(c);
    if (ret <= 0) return ret;
    if (at(c) !== 0x2e) return 1;
    c.i++;
    out[0] += '.';
    if (skipLwsp(c) <= 0) return -1;
    start = c.i;
  }
  out[0] += c.s.slice(start, c.i);
  return 0;
}

export function parseMimeToken(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  const start = c.i;
  skipRun(TOKEN_RUN, c);
  out[0] += c.s.slice(start, c.i);
  return c.i < c.s.length ? skipLwsp(c) : 0;
}

/** quoted-string at '"': backslash escapes removed, folding (CR)LF removed. */
export function parseQuotedString(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  c.i++;
  let start = c.i;
  for (; c.i < c.s.length; c.i++) {
    const ch = at(c);
    if (ch === 0 && c.nul !== null) {
      out[0] += c.s.slice(start, c.i) + c.nul;
      start = c.i + 1;
    } else if (ch === 0x22) {
      out[0] += c.s.slice(start, c.i);
      c.i++;
      return skipLwsp(c);
    } else if (ch === 0x0a) {
      let len = c.i - start;
      if (len > 0 && c.s.charCodeAt(start + len - 1) === 0x0d) len--;
      out[0] += c.s.slice(start, start + len);
      start = c.i + 1;
    } else if (ch === 0x5c) {
      c.i++;
      if (c.i >= c.s.length) return -1;
      const next = at(c);
      if (next === 0x0d || next === 0x0a || next === 0) {
        c.i--; // not an escape: the backslash stays
        continue;
      }
      out[0] += c.s.slice(start, c.i - 1);
      start = c.i;
    }
  }
  return -1;
}

function parseAtomOrDot(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  const start = c.i;
  skipRun(ATEXT_OR_DOT_RUN, c);
  out[0] += c.s.slice(start, c.i);
  return c.i < c.s.length ? skipLwsp(c) : 0;
}

/** phrase (obs-phrase: words and dots), words joined by one space. */
export function parsePhrase(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  if (c.i >= c.s.length) return 0;
  if (at(c) === 0x2e) return -1;
  for (;;) {
    const ret = at(c) === 0x22 ? parseQuotedString(c, out) : parseAtomOrDot(c, out);
    if (ret <= 0) return ret;
    const ch = at(c);
    if (!isAtext(ch) && ch !== 0x22 && ch !== 0x2e) break;
    out[0] += ' ';
  }
  return skipLwsp(c);
}

/** "[...]", brackets kept, folding removed, a '[' inside is an error. */
function parseDomainLiteral(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  let start = c.i++;
  for (; c.i < c.s.length; c.i++) {
    const ch = at(c);
    if (ch === 0 && c.nul !== null) {
      out[0] += c.s.slice(start, c.i) + c.nul;
      start = c.i + 1;
    } else if (ch === 0x5b) return -1;
    else if (ch === 0x5d) {
      c.i++;
      out[0] += c.s.slice(start, c.i);
      return skipLwsp(c);
    } else if (ch === 0x0a) {
      let len = c.i - start;
      if (len > 0 && c.s.charCodeAt(start + len - 1) === 0x0d) len--;
      out[0] += c.s.slice(start, start + len);
      start = c.i + 1;
    } else if (ch === 0x5c) {
      c.i++;
      if (c.i >= c.s.length) return -1;
      const next = at(c);
      if (next === 0x0d || next === 0x0a || next === 0) {
        out[0] += c.s.slice(start, c.i);
        start = c.i;
        c.i--;
      }
    }
  }
  return -1;
}

/** domain after '@' (the cursor is on the '@'). */
export function parseDomain(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  c.i++;
  if (skipLwsp(c) <= 0) return -1;
  return at(c) === 0x5b ? parseDomainLiteral(c, out) : parseDotAtom(c, out);
}

/**
 * type "/" subtype; out gets "type/subtype". Broken: -1, and out keeps only a type that was not
 * followed by '/', else nothing; a subtype followed by anything but ';' is broken too.
 */
export function parseContentType(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  const before = out[0] as string;
  if (skipLwsp(c) <= 0) return -1;
  if (parseMimeToken(c, out) <= 0 || out[0] === before) return -1;
  if (at(c) !== 0x2f) {
    out[0] = before;
    return -1;
  }
  c.i++;
  if (skipLwsp(c) <= 0) {
    out[0] = before;
    return -1;
  }
  out[0] += '/';
  const slash = (out[0] as string).length;
  const ret = parseMimeToken(c, out);
  if (ret < 0 || (out[0] as string).length === slash || (c.i < c.s.length && at(c) !== 0x3b)) {
    out[0] = before;
    return -1;
  }
  return ret;
}
