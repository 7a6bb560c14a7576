/**
 * Content-Type / Content-Disposition / Content-Language values as Dovecot reads them for
 * BODYSTRUCTURE: parameters in the order written, RFC 2231 continuations (`name*0`, `name*1*`) merged
 * into one `name` or `name*` parameter whose value stays encoded (`charset'lang'%xx`), nothing decoded,
 * broken parameters skipped and the rest kept. Behaviour follows Dovecot (src/lib-mail/rfc2231-parser.c,
 * message-part-data.c); the code is written here.
 */
import type { MimeParam } from './structure.js';
import { cursor, parseAtom, parseContentType, parseMimeToken, parseQuotedString, skipLwsp, type Rfc822Cursor } from './rfc822-tokens.js';

/** One `; name=value`; returns 0 at the end, -1 broken, 1 with the pair. */
function parseParam(c: Rfc822Cursor): { ret: -1 | 0 | 1; name: string; value: string } {
  const none = { name: '', value: '' };
  if (c.i >= c.s.length) return { ret: 0, ...none };
  if (c.s.charCodeAt(c.i) !== 0x3b) return { ret: -1, ...none };
  c.i++;
  if (skipLwsp(c) <= 0) return { ret: -1, ...none };
  const key = [''];
  if (parseMimeToken(c, key) <= 0) return { ret: -1, ...none };
  if (c.s.charCodeAt(c.i) !== 0x3d) return { ret: -1, ...none };
  c.i++;
  const value = [''];
  let ret = skipLwsp(c);
  if (ret <= 0) {
    // broken / no value
  } else if (c.s.charCodeAt(c.i) === 0x22) {
    ret = parseQuotedString(c, value);
  } else if (c.s.charCodeAt(c.i) === 0x3d) {
    // a bare encoded word (name==?utf-8?b?...?=): taken up to whitespace or ';'
    const from = c.i;
    while (c.i < c.s.length && !';\t\r\n '.includes(c.s[c.i] as string)) c.i++;
    value[0] = c.s.slice(from, c.i);
  } else {
    ret = parseMimeToken(c, value);
  }
  return { ret: ret < 0 ? -1 : 1, name: key[0] as string, value: value[0] as string };
}

interface Rfc2231Piece {
  key: string;
  idx: number;
  extended: boolean;
  value: string;
  seq: number;
}

/** The parameters after the type (cursor just past it), RFC 2231 pieces merged at the end. */
export function parseParams(c: Rfc822Cursor): MimeParam[] {
  const result: MimeParam[] = [];
  const pieces: Rfc2231Piece[] = [];
  let idx = 0;
  for (;;) {
    const p = parseParam(c);
    if (p.ret === 0) break;
    if (p.ret < 0) {
      if (c.i >= c.s.length) break;
      c.i++;
      continue;
    }
    const star = p.name.indexOf('*');
    let plain = star < 0;
    if (star >= 0) {
      let j = star;
      // a bare "name*" keeps the index of the RFC 2231 piece before it (Dovecot reuses its record)
      if (j + 1 < p.name.length) {
        j++;
        idx = 0;
        for (; j < p.name.length && p.name.charCodeAt(j) >= 0x30 && p.name.charCodeAt(j) <= 0x39; j++) {
          idx = (idx * 10 + p.name.charCodeAt(j) - 0x30) >>> 0;
        }
      }
      let extended = false;
      if (p.name[j] === '*') {
        extended = true;
        j++;
      }
      if (j < p.name.length) plain = true;
      else pieces.push({ key: p.name.slice(0, star), idx, extended, value: p.value, seq: pieces.length });
    }
    if (plain) result.push({ name: p.name, value: p.value });
  }
  if (pieces.length === 0) return result;
  // sorted by name (bytewise) then index, as Dovecot does before merging
  pieces.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.idx - b.idx || a.seq - b.seq));
  for (let i = 0; i < pieces.length; ) {
    const first = pieces[i] as Rfc2231Piece;
    let ok = true;
    let haveExtended = false;
    let nextIdx = 0;
    let j = i;
    for (; j < pieces.length; j++) {
      const pj = pieces[j] as Rfc2231Piece;
      if (pj.key.toLowerCase() !== first.key.toLowerCase()) break;
      if (pj.idx !== nextIdx) ok = false;
      if (pj.extended) haveExtended = true;
      nextIdx++;
    }
    if (!ok) {
      for (let k = i; k < j; k++) {
        const pk = pieces[k] as Rfc2231Piece;
        result.push({ name: `${pk.key}*${pk.idx}${pk.extended ? '*' : ''}`, value: pk.value });
      }
    } else {
      let value = !first.extended && haveExtended ? "''" : '';
      for (let k = i; k < j; k++) {
        const pk = pieces[k] as Rfc2231Piece;
        value += !pk.extended && haveExtended ? pk.value.replace(/%/g, '%25') : pk.value;
      }
      result.push({ name: haveExtended ? `${first.key}*` : first.key, value });
    }
    i = j;
  }
  return result;
}

/**
 * Whether a body of this Content-Type is searched as text (Dovecot's message-search.c: the parsed
 * "type/subtype" starts with "text/" or "message/"; a value without a subtype never does).
 */
export function searchedAsText(type: string, subtype: string): boolean {
  if (subtype === '') return false;
  const t = type.toLowerCase();
  return t === 'text' || t === 'message';
}

export interface ContentType {
  readonly type: string;
  readonly subtype: string;
  readonly params: MimeParam[];
  /** the value parsed as type/subtype (false: broken; type/subtype hold what could be read) */
  readonly valid: boolean;
  /** "type/subtype" as read (what the parser classes the part by) */
  readonly raw: string;
}

/** A Content-Type value (raw byte string). */
export function parseContentTypeValue(value: string): ContentType {
  const c = cursor(value);
  skipLwsp(c);
  const out = [''];
  const ret = parseContentType(c, out);
  const full = out[0] as string;
  const slash = full.indexOf('/');
  const type = slash < 0 ? full : full.slice(0, slash);
  const subtype = slash < 0 ? '' : full.slice(slash + 1);
  if (ret < 0) return { type, subtype, params: [], valid: false, raw: full };
  return { type, subtype, params: parseParams(c), valid: true, raw: full };
}

/** A Content-Disposition value, or null when it has no token. */
export function parseDispositionValue(value: string): { disposition: string; params: MimeParam[] } | null {
  const c = cursor(value);
  skipLwsp(c);
  const out = [''];
  if (parseMimeToken(c, out) < 0) return null;
  return { disposition: out[0] as string, params: parseParams(c) };
}

/** A Content-Transfer-Encoding value: one token and nothing after it, else null. */
export function parseEncodingValue(value: string): string | null {
  const c = cursor(value);
  skipLwsp(c);
  const out = [''];
  if (parseMimeToken(c, out) >= 0 && skipLwsp(c) === 0 && (out[0] as string).length > 0) return out[0] as string;
  return null;
}

/** A Content-Language value: the comma-separated atoms, or null when there is none. */
export function parseLanguageValue(value: string): string[] | null {
  const c = cursor(value);
  const langs: string[] = [];
  skipLwsp(c);
  for (;;) {
    const out = [''];
    if (parseAtom(c, out) < 0) break;
    langs.push(out[0] as string);
    if (c.i >= c.s.length || c.s.charCodeAt(c.i) !== 0x2c) break;
    c.i++;
    skipLwsp(c);
  }
  return langs.length > 0 ? langs : null;
}
