/**
 * BODY and TEXT matching over a message's parts, with the same answers as decoding every part to text,
 * folding it (text-match.ts `fold`) and looking for the folded needle — but without building that text
 * where it is the part's bytes read as latin1, which covers nearly all mail: ASCII text in a charset that
 * keeps ASCII as it is, and bytes decode-text.ts reads as latin1 (no charset, or US-ASCII, and not valid
 * UTF-8 — binary attachments — or a charset iconv-lite does not know). Within U+0000–U+00FF NFKC maps
 * each character on its own (none combines with a neighbour), so for an ASCII needle a regular expression
 * over the unfolded latin1 string, each needle character a class of the characters folding to it, finds
 * exactly what searching the folded text would. Everything else (UTF-8 text with non-ASCII, other
 * charsets, non-ASCII needles) takes the general path. test/imap/search/shortcuts.test.ts checks the
 * shortcut against it.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { decodeCharset, decodeTransfer } from '../../mail/mime/decode-text.js';
import { parseHeaderBlock } from '../../mail/mime/header-block.js';
import type { Step } from './layout.js';
import { fold, headerText } from './text-match.js';

/**
 * Where each ASCII character can come from in folded latin1 text, from each byte's own fold: `exact`,
 * the characters folding to it alone ('A' and 'a' to "a", 'ª' too); `starts`, those whose fold begins
 * with it and goes on with non-ASCII ('½' → "1⁄2" begins with "1"); `ends`, those whose fold ends with it.
 * An ASCII needle then matches folded latin1 text exactly when a regular expression over the unfolded
 * text matches: each needle character a class of its sources (`ends` allowed first only, `starts` last
 * only). `shaped` says every fold has that form (one character, or ASCII only at its ends with non-ASCII
 * between); were it not (another Unicode version), the general path is taken instead.
 */
const SOURCES = new Map<number, { exact: number[]; starts: number[]; ends: number[] }>();
let shaped = true;
for (let b = 0; b < 256; b++) {
  const units = [...fold(String.fromCharCode(b))].map((ch) => ch.codePointAt(0)!);
  const ascii = (u: number | undefined): boolean => u !== undefined && u < 0x80;
  const sources = (u: number): { exact: number[]; starts: number[]; ends: number[] } => {
    let entry = SOURCES.get(u);
    if (entry === undefined) SOURCES.set(u, (entry = { exact: [], starts: [], ends: [] }));
    return entry;
  };
  if (units.length === 1) {
    if (ascii(units[0])) sources(units[0]!).exact.push(b);
    continue;
  }
  units.forEach((u, i) => {
    if (!ascii(u)) return;
    if (ascii(units[i - 1]) || ascii(units[i + 1]) || (i > 0 && i < units.length - 1)) shaped = false;
    else if (i === 0) sources(u).starts.push(b);
    else sources(u).ends.push(b);
  });
}

/** The expression that finds the ASCII needle in latin1 text as folded (see SOURCES). */
function latin1Pattern(needle: string): RegExp {
  const hex = (c: number): string => `\\x${c.toString(16).padStart(2, '0')}`;
  const parts: string[] = [];
  for (let i = 0; i < needle.length; i++) {
    const src = SOURCES.get(needle.charCodeAt(i));
    const chars = src === undefined ? [] : [...src.exact, ...(i === 0 ? src.ends : []), ...(i === needle.length - 1 ? src.starts : [])];
    // a needle character nothing folds to (an upper-case letter: needles are folded) never matches
    parts.push(chars.length === 0 ? '[^\\x00-\\xff]' : `[${chars.map(hex).join('')}]`);
  }
  return new RegExp(parts.join(''));
}

/** A needle prepared once per search: its folded text, and for an ASCII one its latin1 expression. */
export interface Needle {
  readonly text: string;
  readonly latin1: RegExp | undefined;
}

export function needleOf(folded: string): Needle {
  // eslint-disable-next-line no-control-regex
  return { text: folded, latin1: shaped && folded !== '' && /^[\x00-\x7f]*$/.test(folded) ? latin1Pattern(folded) : undefined };
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
  // (a message/* leaf is not textual: it has no charset here, and decode-text.ts reads it as UTF-8, else latin1)
  const [, start, end, , encoding, charset] = leaf;
  const bytes = decodeTransfer(stored.subarray(start, end), encoding);
  // the text is the bytes as latin1: ASCII in a charset that keeps it, or bytes read as latin1
  if (needle.latin1 !== undefined && ((isAscii(bytes) && asciiTransparent(charset)) || readAsLatin1(bytes, charset))) return needle.latin1.test(bytes.toString('latin1'));
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
