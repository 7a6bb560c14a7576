/**
 * Modified UTF-7 (RFC 3501 §5.1.3), the encoding of mailbox names on the IMAP wire: printable ASCII stands
 * for itself ("&" as "&-"), everything else is UTF-16 in modified base64 ("," for "/", no padding) between
 * "&" and "-". Written here (~80 lines) rather than taken from a package because the decoder must be
 * strict: it refuses every non-canonical form (printable ASCII or "&" inside a shift, two shifts in a row,
 * an empty shift, leftover bits or non-zero padding, an unterminated "&", unpaired surrogates, bytes
 * outside printable ASCII), so that one mailbox can never be named two ways (an aliasing risk: `&AC4ALg-`
 * must not be a second spelling of "..").
 * Property: if decode(x) succeeds then encode(decode(x)) === x.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

const isDirect = (c: number): boolean => c >= 0x20 && c <= 0x7e;

/** Unicode → modified UTF-7. Lone surrogates are encoded as they are (the decoder refuses them back). */
export function encodeMutf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c === 0x26) {
      out += '&-';
      i++;
    } else if (isDirect(c)) {
      out += name[i];
      i++;
    } else {
      let j = i;
      while (j < name.length && !isDirect(name.charCodeAt(j))) j++;
      out += '&' + base64Units(name, i, j) + '-';
      i = j;
    }
  }
  return out;
}

function base64Units(s: string, from: number, to: number): string {
  let out = '';
  let bits = 0;
  let count = 0;
  for (let k = from; k < to; k++) {
    bits = (bits << 16) | s.charCodeAt(k);
    count += 16;
    while (count >= 6) {
      count -= 6;
      out += ALPHABET[(bits >> count) & 0x3f];
    }
    bits &= (1 << count) - 1;
  }
  if (count > 0) out += ALPHABET[(bits << (6 - count)) & 0x3f];
  return out;
}

/** Modified UTF-7 → Unicode; undefined unless `text` is exactly what encodeMutf7 writes for its result. */
export function decodeMutf7(text: string): string | undefined {
  let out = '';
  let i = 0;
  let afterShift = false;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (!isDirect(c)) return undefined;
    if (c !== 0x26) {
      out += text[i];
      i++;
      afterShift = false;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end < 0) return undefined;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      afterShift = false;
      continue;
    }
    // Two shifts in a row would have been one.
    if (afterShift) return undefined;
    const units = decodeUnits(text, i + 1, end);
    if (units === undefined) return undefined;
    out += units;
    i = end + 1;
    afterShift = true;
  }
  return out;
}

function decodeUnits(text: string, from: number, to: number): string | undefined {
  let bits = 0;
  let count = 0;
  let out = '';
  for (let k = from; k < to; k++) {
    const code = text.charCodeAt(k);
    const v = code < 128 ? VALUE[code]! : -1;
    if (v < 0) return undefined;
    bits = ((bits << 6) | v) & 0x3fffff;
    count += 6;
    if (count >= 16) {
      count -= 16;
      out += String.fromCharCode((bits >> count) & 0xffff);
      bits &= (1 << count) - 1;
    }
  }
  // Canonical: fewer than 6 leftover bits, all zero.
  if (count >= 6 || bits !== 0) return undefined;
  for (let k = 0; k < out.length; k++) {
    const u = out.charCodeAt(k);
    if (isDirect(u)) return undefined;
    if (u >= 0xd800 && u <= 0xdbff) {
      const next = out.charCodeAt(k + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return undefined;
      k++;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      return undefined;
    }
  }
  return out;
}
