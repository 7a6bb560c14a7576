/**
 * Modified UTF-7 (RFC 3501 §5.1.3) for folder directory names only: a Maildir++ folder is stored under its
 * mUTF-7 name, as Dovecot stores it (without `mailbox_list_utf8`). A private, minimal codec so that this
 * layer does not wait for src/mail/mutf7.ts (being written on another branch); once that lands, this file
 * should be replaced by it. Decoding is strict (a foreign directory with a non-canonical name is not a
 * folder): shifted printable ASCII, '&' not closed by '-', bad padding, lone surrogates are refused.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i] as const));

/** Printable ASCII other than '&' passes as itself. */
function isDirect(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** Unicode → mUTF-7. Throws on a lone surrogate (not a Unicode string). */
export function encodeFolderMutf7(s: string): string {
  let out = '';
  let units: number[] = [];
  const flush = (): void => {
    if (units.length === 0) return;
    const bytes: number[] = [];
    for (const u of units) bytes.push(u >> 8, u & 0xff);
    let bits = 0;
    let value = 0;
    out += '&';
    for (const b of bytes) {
      value = (value << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += B64[(value >> bits) & 0x3f];
      }
      value &= (1 << bits) - 1;
    }
    if (bits > 0) out += B64[(value << (6 - bits)) & 0x3f];
    out += '-';
    units = [];
  };
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw new Error('lone surrogate in a mailbox name');
      units.push(code, next);
      i++;
      continue;
    }
    if (isDirect(code)) {
      flush();
      out += code === 0x26 ? '&-' : s[i];
    } else {
      units.push(code);
    }
  }
  flush();
  return out;
}

/** mUTF-7 → Unicode; throws on anything a canonical encoder would not have written. */
export function decodeFolderMutf7(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDirect(c)) throw new Error('8-bit or control character in a modified UTF-7 name');
    if (c !== 0x26) {
      out += s[i];
      continue;
    }
    const end = s.indexOf('-', i + 1);
    if (end === -1) throw new Error("unterminated '&' in a modified UTF-7 name");
    if (end === i + 1) {
      out += '&';
      i = end;
      continue;
    }
    let bits = 0;
    let value = 0;
    const units: number[] = [];
    for (let j = i + 1; j < end; j++) {
      const v = B64_VALUE.get(s[j] as string);
      if (v === undefined) throw new Error('bad base64 in a modified UTF-7 name');
      value = (value << 6) | v;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push((value >> bits) & 0xffff);
        value &= (1 << bits) - 1;
      }
    }
    // Leftover bits must be fewer than 6 and zero (canonical padding), and something must have been shifted.
    if (bits >= 6 || value !== 0 || units.length === 0) throw new Error('bad padding in a modified UTF-7 name');
    for (let k = 0; k < units.length; k++) {
      const u = units[k] as number;
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = units[k + 1];
        if (lo === undefined || lo < 0xdc00 || lo > 0xdfff) throw new Error('lone surrogate in a modified UTF-7 name');
        out += String.fromCharCode(u, lo);
        k++;
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        throw new Error('lone surrogate in a modified UTF-7 name');
      } else if (isDirect(u)) {
        throw new Error('printable ASCII shifted in a modified UTF-7 name');
      } else {
        out += String.fromCharCode(u);
      }
    }
    i = end;
    // Two shifted runs back to back are not canonical ("&AOk-&AOk-" is "&AOkA6Q-").
    if (s.charCodeAt(i + 1) === 0x26 && s.charCodeAt(i + 2) !== 0x2d) throw new Error('adjacent shifted runs in a modified UTF-7 name');
  }
  return out;
}
