/**
 * Text as a reader sees it, for searching (IMAP SEARCH; later POP3/other callers): RFC 2047 encoded
 * words in header values decoded, body parts undone from their Content-Transfer-Encoding (base64,
 * quoted-printable) and converted from their charset to Unicode. Charsets go through the WHATWG
 * TextDecoder (Node's full ICU: ISO-8859-*, windows-125x, KOI8, Shift_JIS, GB18030...), so no iconv
 * dependency is needed; an unknown charset leaves the bytes read as UTF-8, as Dovecot falls back to the
 * raw bytes. Nothing here throws on broken input.
 */

import { TextDecoder } from 'node:util';

const decoders = new Map<string, TextDecoder | null>();

/** A decoder for `charset`, or null when the name is not known (cached both ways). */
function decoderFor(charset: string): TextDecoder | null {
  const key = charset.trim().toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key === 'us-ascii' || key === 'ascii' ? 'utf-8' : key, { fatal: false });
    } catch {
      d = null;
    }
    if (decoders.size < 256) decoders.set(key, d);
  }
  return d;
}

const utf8 = new TextDecoder('utf-8');

/** Whether text in `charset` can be decoded here. */
export function knownCharset(charset: string): boolean {
  return decoderFor(charset) !== null;
}

/**
 * Raw bytes without a declared charset (RFC 6532 headers, undeclared bodies): UTF-8, invalid sequences
 * becoming U+FFFD — as Dovecot, which does not guess Latin-1 (its searches then do not match such bytes).
 */
export function decodeRaw(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return utf8.decode(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** Bytes in `charset` (null: undeclared) → text. */
export function decodeCharset(bytes: Uint8Array, charset: string | null): string {
  if (charset === null) return decodeRaw(bytes);
  const d = decoderFor(charset);
  if (d === null) return decodeRaw(bytes);
  if (d.encoding === 'utf-8') return utf8.decode(bytes);
  return d.decode(bytes);
}

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Quoted-printable (RFC 2045 §6.7) → bytes; `header` turns "_" into a space (RFC 2047 Q). Lenient. */
export function decodeQuotedPrintable(input: Uint8Array, header = false): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x3d) {
      const h1 = i + 1 < input.length ? hex(input[i + 1]!) : -1;
      const h2 = i + 2 < input.length ? hex(input[i + 2]!) : -1;
      if (h1 >= 0 && h2 >= 0) {
        out[n++] = h1 * 16 + h2;
        i += 2;
        continue;
      }
      // soft line break: "=" then optional whitespace then (CR)LF
      let j = i + 1;
      while (j < input.length && (input[j] === 0x20 || input[j] === 0x09)) j++;
      if (j < input.length && input[j] === 0x0d) j++;
      if (j < input.length && input[j] === 0x0a) {
        i = j;
        continue;
      }
      if (j >= input.length) break;
      out[n++] = c;
    } else if (header && c === 0x5f) {
      out[n++] = 0x20;
    } else {
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}

/** Base64 → bytes, ignoring anything outside the alphabet (Node's decoder is lenient already). */
export function decodeBase64(input: Uint8Array): Buffer {
  return Buffer.from(Buffer.from(input.buffer, input.byteOffset, input.length).toString('latin1'), 'base64');
}

/** A body part's bytes undone from its Content-Transfer-Encoding (other encodings: as they are). */
export function decodeTransfer(bytes: Uint8Array, encoding: string | null): Uint8Array {
  const e = encoding?.toLowerCase();
  if (e === 'base64') return decodeBase64(bytes);
  if (e === 'quoted-printable') return decodeQuotedPrintable(bytes);
  return bytes;
}

/** A body part's text: transfer encoding undone, then its charset. */
export function decodeBodyText(bytes: Uint8Array, encoding: string | null, charset: string | null): string {
  return decodeCharset(decodeTransfer(bytes, encoding), charset);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * A raw header value (byte string: one char per byte) with its RFC 2047 encoded words decoded. Whitespace
 * between two adjacent encoded words is dropped (RFC 2047 §6.2); other text is taken as UTF-8 when valid
 * (RFC 6532 headers), invalid sequences as U+FFFD. A charset's "*language" suffix (RFC 2231 §5) is ignored.
 */
export function decodeHeaderValue(raw: string): string {
  let out = '';
  let last = 0;
  let lastWasWord = false;
  ENCODED_WORD.lastIndex = 0;
  for (let m = ENCODED_WORD.exec(raw); m !== null; m = ENCODED_WORD.exec(raw)) {
    const between = raw.slice(last, m.index);
    if (!(lastWasWord && /^[ \t\r\n]*$/.test(between))) out += decodeRaw(Buffer.from(between, 'latin1'));
    const charset = m[1]!.split('*')[0]!;
    const data = Buffer.from(m[3]!, 'latin1');
    const bytes = m[2] === 'b' || m[2] === 'B' ? decodeBase64(data) : decodeQuotedPrintable(data, true);
    out += decodeCharset(bytes, charset);
    last = m.index + m[0].length;
    lastWasWord = true;
  }
  if (last === 0) return decodeRaw(Buffer.from(raw, 'latin1'));
  return out + decodeRaw(Buffer.from(raw.slice(last), 'latin1'));
}
