/**
 * BODY[section]<partial> (RFC 3501 §6.4.5) → which bytes of the stored message to send, following
 * Dovecot (src/lib-imap-storage/imap-msgpart.c, behaviour reproduced): part numbers walk multiparts
 * (a non-multipart has only part 1, itself) and step into a message/rfc822 when more numbers follow;
 * HEADER, TEXT and HEADER.FIELDS[.NOT] of a part apply to the message inside a message/rfc822 part
 * (on any other part they give an empty string); MIME is the part's own header; a missing part gives
 * an empty string. The bytes are sent CRLF (bare LFs converted, NUL as 0x80) and partial offsets
 * count in those CRLF octets; HEADER.FIELDS is a header synthesised from the matching fields.
 */
import { parseHeaderBlock } from '../../mail/mime/header-block.js';
import { toCrlf } from '../../mail/mime/line-ends.js';
import type { MimePart } from '../../mail/mime/structure.js';

export type SectionText = 'full' | 'header' | 'header.fields' | 'header.fields.not' | 'text' | 'mime';

export interface SectionSpec {
  /** part numbers, e.g. [1, 2] for "1.2"; [] for the whole message */
  readonly part: readonly number[];
  readonly text: SectionText;
  /** HEADER.FIELDS[.NOT] field names */
  readonly fields?: readonly string[];
}

export interface SectionPartial {
  readonly offset: number;
  readonly length: number;
}

/** Where a section's bytes come from. */
export type SectionSource =
  | { readonly kind: 'empty' }
  /** stored bytes [start, end), sent CRLF; vsize = their CRLF size */
  | { readonly kind: 'range'; readonly start: number; readonly end: number; readonly vsize: number }
  /** the header at stored [start, end) filtered to (or without) `fields` */
  | {
      readonly kind: 'header-fields';
      readonly start: number;
      readonly end: number;
      readonly fields: readonly string[];
      readonly exclude: boolean;
      /** the message's own header (Dovecot serves HEADER.FIELDS of it from its cache: see filterHeaderFields) */
      readonly root: boolean;
    };

/**
 * A section-spec as written between the brackets ("", "1.2", "HEADER", "2.HEADER.FIELDS (From To)",
 * "1.MIME", ...), or null when it is not valid RFC 3501 syntax. For tests and simple callers; the
 * IMAP command parser builds SectionSpec itself.
 */
export function parseSectionSpec(spec: string): SectionSpec | null {
  const part: number[] = [];
  let rest = spec;
  for (;;) {
    const m = /^([1-9][0-9]{0,9})(\.|$)/.exec(rest);
    if (m === null) break;
    part.push(Number(m[1]));
    rest = rest.slice(m[0].length);
    if (m[2] === '') return { part, text: 'full' };
    if (rest === '') return null; // "1."
  }
  if (rest === '') return part.length === 0 ? { part, text: 'full' } : null;
  const upper = rest.toUpperCase();
  if (upper === 'HEADER') return { part, text: 'header' };
  if (upper === 'TEXT') return { part, text: 'text' };
  if (upper === 'MIME') return part.length > 0 ? { part, text: 'mime' } : null;
  const f = /^HEADER\.FIELDS(\.NOT)? \((.+)\)$/is.exec(rest);
  if (f === null) return null;
  const fields = (f[2] as string).split(' ').filter((x) => x.length > 0).map((x) => x.replace(/^"(.*)"$/s, '$1'));
  if (fields.length === 0) return null;
  return { part, text: f[1] === undefined ? 'header.fields' : 'header.fields.not', fields };
}

/** The part a section number names, or null (Dovecot's walk). */
export function findPart(root: MimePart, numbers: readonly number[]): MimePart | null {
  let part: MimePart | null = root;
  for (let k = 0; k < numbers.length && part !== null; k++) {
    const num = numbers[k] as number;
    const last = k === numbers.length - 1;
    if (part.kind === 'multipart') {
      part = part.children[num - 1] ?? null;
    } else if (num !== 1 || (!last && part.kind !== 'message')) {
      part = null;
    }
    if (part !== null && part.kind === 'message' && !last) part = part.children[0] ?? null;
  }
  return part;
}

function range(start: number, end: number, vsize: number): SectionSource {
  return { kind: 'range', start, end, vsize };
}

/** Where `spec`'s bytes are in the stored message. */
export function locateSection(root: MimePart, spec: SectionSpec): SectionSource {
  let part: MimePart | null = root;
  if (spec.part.length > 0) {
    part = findPart(root, spec.part);
    if (part === null) return { kind: 'empty' };
    if (spec.text !== 'full' && spec.text !== 'mime') {
      if (part.kind !== 'message' || part.children[0] === undefined) return { kind: 'empty' };
      part = part.children[0];
    }
  }
  switch (spec.text) {
    case 'full':
      return spec.part.length === 0
        ? range(root.headerStart, root.end, root.header.virtual + root.body.virtual)
        : range(part.bodyStart, part.end, part.body.virtual);
    case 'mime':
    case 'header':
      return range(part.headerStart, part.bodyStart, part.header.virtual);
    case 'text':
      return range(part.bodyStart, part.end, part.body.virtual);
    case 'header.fields':
    case 'header.fields.not':
      // Dovecot filters from the header's start up to a blank line, not up to the header's end: an
      // embedded header that ran into a boundary goes on into the lines after it
      return {
        kind: 'header-fields',
        start: part.headerStart,
        end: spec.part.length === 0 ? part.bodyStart : root.end,
        fields: spec.fields ?? [],
        exclude: spec.text === 'header.fields.not',
        root: spec.part.length === 0,
      };
  }
}

/**
 * The header at stored [start, end) reduced to the fields named (or, with exclude, to the others),
 * CRLF, as Dovecot gives them. HEADER.FIELDS: every field ends in CRLF (one is added to a last line
 * without newline), then the blank line — always for the message's own header (Dovecot builds it
 * from its header cache), for an embedded message only when its header has one. HEADER.FIELDS.NOT
 * filters the stored header: lines as stored, the blank line only when the header has one.
 * (For a top-level header without any blank line Dovecot's own answer varies with its cache state;
 * the differential test allows both forms there.)
 */
export function filterHeaderFields(stored: Buffer, start: number, end: number, names: readonly string[], exclude: boolean, root = false): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let last = start;
  for (const f of parseHeaderBlock(stored, start, end)) {
    last = f.end;
    // a line without ':' is nobody's field: never included, kept by .NOT
    if (exclude ? wanted.has(f.name.toLowerCase()) : !f.hasColon || !wanted.has(f.name.toLowerCase())) continue;
    if (root && !exclude) out.push(cachedField(stored, f.start, f.end));
    else {
      out.push(toCrlf(stored, f.start, f.end, { nulTo80: true }));
      // the missing newline is an LF, then made CRLF (after a stored CR it stays a bare LF)
      if (!exclude && stored[f.end - 1] !== 0x0a) out.push(stored[f.end - 1] === 0x0d ? LF : CRLF);
    }
  }
  if (last < end || (!exclude && root)) out.push(CRLF);
  return Buffer.concat(out);
}

/**
 * A field as Dovecot's header cache gives it back: each line's text without its newline ((CR)LF),
 * then LF, all made CRLF (so a line stored as "x\r\r\n" comes back as "x\r\n").
 */
function cachedField(stored: Buffer, start: number, end: number): Buffer {
  const lines: Buffer[] = [];
  let pos = start;
  // the name is a C string there: bytes from a NUL in the name to its end are gone
  const firstLf = stored.indexOf(0x0a, start);
  const colon = stored.indexOf(0x3a, start);
  if (colon >= 0 && colon < end && (firstLf < 0 || colon < firstLf)) {
    let nameEnd = colon;
    while (nameEnd > start && (stored[nameEnd - 1] === 0x20 || stored[nameEnd - 1] === 0x09)) nameEnd--;
    const nul = stored.indexOf(0, start);
    if (nul >= 0 && nul < nameEnd) {
      lines.push(stored.subarray(start, nul));
      pos = nameEnd;
    }
  }
  while (pos < end) {
    let lf = stored.indexOf(0x0a, pos);
    if (lf < 0 || lf >= end) lf = end;
    const textEnd = lf < end && lf > pos && stored[lf - 1] === 0x0d ? lf - 1 : lf;
    lines.push(stored.subarray(pos, textEnd), LF);
    pos = lf + 1;
  }
  const joined = Buffer.concat(lines);
  return toCrlf(joined, 0, joined.length, { nulTo80: true });
}

const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');

/** The section's bytes as sent (CRLF, NUL as 0x80), cut to `partial` (offset past the end → empty). */
export function sectionBytes(stored: Buffer, root: MimePart, spec: SectionSpec, partial?: SectionPartial): Buffer {
  const src = locateSection(root, spec);
  if (src.kind === 'empty') return Buffer.alloc(0);
  if (src.kind === 'header-fields') {
    const all = filterHeaderFields(stored, src.start, src.end, src.fields, src.exclude, src.root);
    if (partial === undefined) return all;
    return all.subarray(Math.min(partial.offset, all.length), Math.min(partial.offset + partial.length, all.length));
  }
  if (partial !== undefined && partial.offset >= src.vsize) return Buffer.alloc(0);
  const skip = partial === undefined ? 0 : partial.offset + partialSlip(stored, src.start, src.end, src.vsize, partial.offset);
  return toCrlf(stored, src.start, src.end, {
    nulTo80: true,
    ...(partial !== undefined ? { skip, length: partial.length } : {}),
  });
}

/**
 * Dovecot's one-byte slip: in a part stored with bare LFs, when a partial offset ends just after a
 * stored CR that no LF follows, Dovecot drops the next byte too (it takes that CR for the first half
 * of a CRLF it is in the middle of). Returns 1 then, else 0: add it to the skip of a CrlfStream when
 * streaming a range (`stored` needs to hold the range's bytes up to the offset). Reproduced so
 * partial fetches agree with Dovecot.
 */
export function partialSlip(stored: Buffer, start: number, end: number, vsize: number, offset: number): number {
  if (offset === 0 || vsize === end - start) return 0;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = stored[i];
    v += c === 0x0a && (i === 0 || stored[i - 1] !== 0x0d) ? 2 : 1;
    if (v >= offset) return v === offset && c === 0x0d && stored[i + 1] !== 0x0a ? 1 : 0;
  }
  return 0;
}
