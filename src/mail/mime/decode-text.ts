/**
 * Text for SEARCH: header values and body parts → Unicode. Header values: raw bytes read as UTF-8
 * when they are valid UTF-8 (RFC 6532), else as latin1; then RFC 2047 encoded words decoded by
 * libmime (MIT; a solved problem, see the plan §2), a word in a charset iconv-lite does not know read
 * as latin1. Bodies: the Content-Transfer-Encoding undone (base64, quoted-printable; anything else
 * taken as it is), then the charset converted by iconv-lite; an unknown charset is read as latin1
 * (every byte kept, as one character each). Never throws.
 */
import iconv from 'iconv-lite';
import libmime from 'libmime';
import type { MimePart } from './structure.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes → string: UTF-8 when valid, else latin1. */
export function bytesToText(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** A raw header value (byte string, as MimePart/HeaderField hold them) → Unicode text. */
export function decodeHeaderValue(raw: string): string {
  const text = bytesToText(Buffer.from(raw, 'latin1'));
  if (!text.includes('=?')) return text;
  // a word whose charset iconv-lite does not know is read as latin1 rather than lost
  const known = text.replace(/=\?([^?*\s]+)(\*[^?\s]*)?\?([bBqQ])\?/g, (word, charset: string, lang: string | undefined, enc: string) =>
    charsetKnown(charset) ? word : `=?ISO-8859-1${lang ?? ''}?${enc}?`,
  );
  try {
    return libmime.decodeWords(known);
  } catch {
    return text;
  }
}

function charsetKnown(charset: string): boolean {
  try {
    return iconv.encodingExists(charset);
  } catch {
    return false;
  }
}

/** Quoted-printable → bytes (lenient: a bad escape is kept as written). */
export function decodeQuotedPrintable(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    // soft line break: '=' then optional trailing whitespace then (CR)LF
    let j = i + 1;
    while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
    if (j < bytes.length && (bytes[j] === 0x0a || (bytes[j] === 0x0d && bytes[j + 1] === 0x0a))) {
      i = bytes[j] === 0x0d ? j + 1 : j;
      continue;
    }
    if (j >= bytes.length) {
      i = j;
      continue;
    }
    const hex = bytes.toString('latin1', i + 1, i + 3);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

/** Base64 as mail carries it: the alphabet in lines, '=' only as the final padding. */
const PLAIN_BASE64 = /^[A-Za-z0-9+/\r\n]*(?:=[=\r\n]*)?$/;

/** Undoes a Content-Transfer-Encoding (base64, quoted-printable; others unchanged). */
export function decodeTransfer(bytes: Buffer, encoding: string | null): Buffer {
  switch ((encoding ?? '').toLowerCase()) {
    case 'base64': {
      const text = bytes.toString('latin1');
      // Buffer's decoder skips line breaks itself and stops at the final '=': the same bytes, without a copy
      return Buffer.from(PLAIN_BASE64.test(text) ? text : text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
    }
    case 'quoted-printable':
      return decodeQuotedPrintable(bytes);
    default:
      return bytes;
  }
}

/** Bytes in `charset` → Unicode; no charset: UTF-8 when valid, else latin1; unknown: latin1. */
export function decodeCharset(bytes: Buffer, charset: string | null): string {
  if (charset === null || charset === '') return bytesToText(bytes);
  const cs = charset.toLowerCase();
  if (cs === 'us-ascii' || cs === 'ascii') return bytesToText(bytes);
  if (!charsetKnown(charset)) return bytes.toString('latin1');
  try {
    return iconv.decode(bytes, charset);
  } catch {
    return bytes.toString('latin1');
  }
}

/** A text part's body (its stored bytes) → Unicode, using the part's encoding and charset. */
export function decodeBodyText(body: Buffer, part: Pick<MimePart, 'encoding' | 'params'>): string {
  return decodeCharset(decodeTransfer(body, part.encoding), partCharset(part));
}

/** The charset parameter of a part (case-insensitive name), or null. */
export function partCharset(part: Pick<MimePart, 'params'>): string | null {
  const p = part.params.find((x) => x.name.toLowerCase() === 'charset');
  return p === undefined ? null : p.value;
}
