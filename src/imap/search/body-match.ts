/**
 * BODY and TEXT matching over a message's parts, with the same answers as decoding every part to text,
 * folding it (text-match.ts `fold`) and looking for the folded needle — but without building that text
 * where the bytes alone settle it. Two cases cover nearly all mail and are exact:
 * - the part's decoded bytes are all ASCII and its charset maps ASCII to itself: the text is those bytes,
 *   NFKC leaves ASCII alone, so folding is ASCII lower-casing (done natively on a latin1 string);
 * - the text is the bytes read as latin1 (no charset, or US-ASCII, and not valid UTF-8 — binary
 *   attachments; or a charset iconv-lite does not know): within U+0000–U+00FF NFKC maps each character
 *   on its own (none combines with a neighbour), so the folded text is a per-byte table lookup; for an
 *   ASCII needle only the ASCII of each byte's fold matters (anything else becomes 0x80, which an ASCII
 *   needle never holds) and the search is Buffer.indexOf over the mapped bytes.
 * Everything else (UTF-8 text with non-ASCII, other charsets, non-ASCII needles) takes the general path.
 * test/imap/search/body-match.test.ts checks both shortcuts against the general path.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { decodeCharset, decodeTransfer } from '../../mail/mime/decode-text.js';
import { parseHeaderBlock } from '../../mail/mime/header-block.js';
import type { Step } from './layout.js';
import { fold, headerText } from './text-match.js';

/** A needle prepared once per search: its folded text, and its bytes when it is all ASCII. */
export interface Needle {
  readonly text: string;
  readonly ascii: Buffer | undefined;
}

export function needleOf(folded: string): Needle {
  // eslint-disable-next-line no-control-regex
  return { text: folded, ascii: /^[\x00-\x7f]*$/.test(folded) ? Buffer.from(folded, 'latin1') : undefined };
}

/**
 * Each byte's fold as latin1, as bytes with every non-ASCII character made 0x80: byte b's are
 * FOLDED[OFFSET[b] .. OFFSET[b] + LENGTH[b]) (one byte for most; up to three, e.g. '½' → "1⁄2").
 */
const LENGTH = new Uint8Array(256);
const OFFSET = new Uint16Array(256);
const FOLDED = Uint8Array.from(
  Array.from({ length: 256 }, (_, b) => {
    const units = [...fold(String.fromCharCode(b))].map((ch) => (ch.charCodeAt(0) < 0x80 ? ch.charCodeAt(0) : 0x80));
    LENGTH[b] = units.length;
    return units;
  }).flatMap((units, b) => {
    OFFSET[b] = b === 0 ? 0 : OFFSET[b - 1]! + LENGTH[b - 1]!;
    return units;
  }),
);
const MAX_EXPANSION = Math.max(...LENGTH);
let scratch = Buffer.alloc(64 * 1024);

/** Whether fold(latin1(bytes)) contains the ASCII needle. */
function latin1Contains(bytes: Uint8Array, needle: Buffer): boolean {
  const need = bytes.length * MAX_EXPANSION;
  if (scratch.length < need) scratch = Buffer.alloc(need);
  const out = scratch;
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const at = OFFSET[b]!;
    const len = LENGTH[b]!;
    for (let k = 0; k < len; k++) out[n++] = FOLDED[at + k]!;
  }
  return out.subarray(0, n).indexOf(needle) !== -1;
}

const ASCII_TRANSPARENT = /^(?:us-ascii|ascii|utf-?8|iso[-_]?8859-\d{1,2}|latin-?[1-9]|windows-125\d|cp125\d|koi8-[ru])$/i;

/** Whether `charset` decodes ASCII bytes to the same characters (decode-text.ts reads an unknown one as latin1). */
function asciiTransparent(charset: string | null): boolean {
  if (charset === null || charset === '' || ASCII_TRANSPARENT.test(charset)) return true;
  try {
    return !iconv.encodingExists(charset);
  } catch {
    return true;
  }
}

/** decode-text.ts reads these bytes as latin1: no charset (or US-ASCII) and not UTF-8, or a charset iconv-lite does not know. */
function readAsLatin1(bytes: Buffer, charset: string | null): boolean {
  if (charset === null || charset === '' || /^(?:us-)?ascii$/i.test(charset)) return !isUtf8(bytes);
  try {
    return !iconv.encodingExists(charset);
  } catch {
    return true;
  }
}

/** Whether one leaf's text (as BODY searches it: text-match.ts `bodyTexts`) contains the needle. */
export function leafContains(stored: Buffer, leaf: Extract<Step, readonly [1, ...unknown[]]>, needle: Needle): boolean {
  if (needle.text === '') return true;
  // (a leaf that is not text has no charset here: decode-text.ts reads it as UTF-8, else latin1)
  const [, start, end, , encoding, charset] = leaf;
  const bytes = decodeTransfer(stored.subarray(start, end), encoding);
  if (needle.ascii !== undefined) {
    // 'ascii' rather than 'latin1': the same characters, in a string V8 lower-cases faster
    if (isAscii(bytes) && asciiTransparent(charset)) return bytes.toString('ascii').toLowerCase().includes(needle.text);
    if (readAsLatin1(bytes, charset)) return latin1Contains(bytes, needle.ascii);
  }
  return fold(decodeCharset(bytes, charset)).includes(needle.text);
}

/**
 * Whether the message's body text contains the needle: every leaf part decoded (BODY), and with
 * `headers` also every embedded message's and MIME part's header as `Name: decoded value` (TEXT adds
 * the message's own header itself) — the same texts as text-match.ts `bodyTexts`, matched part by part.
 */
export function bodyContains(stored: Buffer, steps: readonly Step[], needle: Needle, headers: boolean): boolean {
  if (needle.text === '') return true;
  for (const step of steps) {
    if (step[0] === 1) {
      if (leafContains(stored, step, needle)) return true;
    } else if (headers) {
      for (const f of parseHeaderBlock(stored, step[1], step[2])) if (`${f.name}: ${headerText(f)}`.includes(needle.text)) return true;
    }
  }
  return false;
}
