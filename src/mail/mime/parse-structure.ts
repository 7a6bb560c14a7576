/**
 * A stored message (LF or CRLF line ends) → its MimePart tree, with Dovecot's rules so that sizes,
 * line counts and part numbers agree with Dovecot byte for byte (src/lib-mail/message-parser.c,
 * behaviour reproduced, code written here):
 * - a boundary line is "--" + a prefix match of any open boundary (the longest wins, the innermost
 *   among equals); an outer boundary closes every inner part; "--b--" closes b;
 * - the [CR]LF before a boundary line belongs to the boundary, not to the part before it; a part's
 *   header that runs into a boundary line gives its last newline to the parent;
 * - a multipart opens only when its header ends with a blank line; Content-* fields count only when
 *   the part is MIME (MIME-Version, or a Content-Type, or any part inside a multipart);
 * - no Content-Type → text/plain, or message/rfc822 inside multipart/digest;
 * - at most 100 levels and 10,000 parts (Dovecot's defaults): past them a part keeps its bytes as one
 *   opaque body.
 * Pure (bytes in, tree out), never throws on any input, linear in the size (each byte is looked at a
 * bounded number of times; boundary checks cost at most depth × 80 per line starting with "--").
 */
import { parseContentTypeValue, parseDispositionValue, parseEncodingValue, parseLanguageValue, searchedAsText, type ContentType } from './content-params.js';
import { envelopeFromFields, headerString } from './envelope.js';
import { headerFields, type HeaderField } from './header-block.js';
import type { HeaderEnvelope, MimeKind, MimeParam, MimePart } from './structure.js';

/**
 * The fields the tree is made of (classify, boundaryParam, contentData, envelopeFromFields): the others
 * (Received, DKIM-Signature, X-...) are skipped without making strings of them.
 */
const ENVELOPE_FIELDS = new Set(['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id', 'mime-version']);
const usedField = (lowerName: string): boolean => lowerName.startsWith('content-') || ENVELOPE_FIELDS.has(lowerName);

export const MAX_NESTED_PARTS = 100;
export const MAX_TOTAL_PARTS = 10_000;
/** Dovecot keeps at most 70 + 10 characters of a boundary. */
const BOUNDARY_MAX = 80;
const BOUNDARY_END_MAX = BOUNDARY_MAX + 4;

const CR = 0x0d;
const DASH = 0x2d;

interface Size {
  physical: number;
  virtual: number;
  lines: number;
}

interface Builder {
  parent: Builder | null;
  depth: number;
  headerStart: number;
  header: Size;
  body: Size;
  multipart: boolean;
  message: boolean;
  text: boolean;
  digest: boolean;
  isMime: boolean;
  overflow: boolean;
  fields: HeaderField[];
  /** the first Content-Type field, parsed (classify, boundaryParam and contentData all use that one) */
  contentType: ContentType | null;
  /** with more than one Content-Type field: whether the last is text/* or message/* (MimePart.searchText) */
  lastTypeText?: boolean;
  children: Builder[];
}

interface Boundary {
  part: Builder;
  /** latin1, as the message text */
  text: string;
  epilogue: boolean;
}

export interface ParseOptions {
  readonly maxNestedParts?: number;
  readonly maxTotalParts?: number;
}

/** The MIME tree of `buf` (a whole stored message). */
export function parseStructure(buf: Buffer, options: ParseOptions = {}): MimePart {
  return new Parser(buf, options).run();
}

function newSize(): Size {
  return { physical: 0, virtual: 0, lines: 0 };
}

class Parser {
  /**
   * The message as a byte string (one char per byte): scanned with String.prototype.indexOf, a builtin
   * call, where Buffer.prototype.indexOf runs JavaScript argument checks first — most of a line's cost
   * before the JIT has compiled the parser, which is when the first FETCH of a process parses its messages.
   */
  private readonly s: string;
  private readonly n: number;
  private pos = 0;
  private boundaries: Boundary[] = [];
  private total = 1;
  /** the part-count limit was reached: boundaries are no longer looked for */
  private flat = false;
  private readonly maxNested: number;
  private readonly maxTotal: number;

  constructor(
    private readonly buf: Buffer,
    options: ParseOptions,
  ) {
    this.s = buf.toString('latin1');
    this.n = buf.length;
    this.maxNested = options.maxNestedParts ?? MAX_NESTED_PARTS;
    this.maxTotal = options.maxTotalParts ?? MAX_TOTAL_PARTS;
  }

  run(): MimePart {
    const root = this.newPart(null, 0, false);
    let cur: Builder | null = root;
    while (cur !== null) cur = this.parsePart(cur);
    return this.freeze(root, true);
  }

  private newPart(parent: Builder | null, at: number, isMime: boolean): Builder {
    const part: Builder = {
      parent,
      depth: parent === null ? 0 : parent.depth + 1,
      headerStart: at,
      header: newSize(),
      body: newSize(),
      multipart: false,
      message: false,
      text: false,
      digest: false,
      isMime,
      overflow: false,
      fields: [],
      contentType: null,
      children: [],
    };
    if (parent !== null) parent.children.push(part);
    return part;
  }

  /** Adds the bytes [start, end) to a size: LFs are lines, an LF without CR before it counts one more byte. */
  private add(size: Size, start: number, end: number): void {
    if (end <= start) return;
    size.physical += end - start;
    let missing = 0;
    let lines = 0;
    let i = this.s.indexOf('\n', start);
    while (i >= 0 && i < end) {
      lines++;
      if (i === 0 || this.s.charCodeAt(i - 1) !== CR) missing++;
      i = this.s.indexOf('\n', i + 1);
    }
    size.lines += lines;
    size.virtual += end - start + missing;
  }

  /**
   * The open boundary that the line at `at` is, or null. Only a line starting with "--" can be one;
   * the text after "--" (less [CR]LF and a trailing "--") must begin with the boundary.
   */
  private boundaryAt(at: number): Boundary | null {
    if (this.boundaries.length === 0 || this.flat) return null;
    if (at + 2 > this.n || this.s.charCodeAt(at) !== DASH || this.s.charCodeAt(at + 1) !== DASH) return null;
    const start = at + 2;
    const lf = this.s.indexOf('\n', start);
    let findSize: number;
    if (lf >= 0) {
      findSize = lf - start;
      if (findSize > 0 && this.s.charCodeAt(start + findSize - 1) === CR) findSize--;
      if (findSize > 2 && this.s.charCodeAt(start + findSize - 1) === DASH && this.s.charCodeAt(start + findSize - 2) === DASH) findSize -= 2;
    } else {
      findSize = Math.min(this.n - start, BOUNDARY_END_MAX);
    }
    let best: Boundary | null = null;
    for (let k = this.boundaries.length - 1; k >= 0; k--) {
      const b = this.boundaries[k] as Boundary;
      const len = b.text.length;
      if (len <= findSize && (best === null || best.text.length < len) && this.s.startsWith(b.text, start)) {
        best = b;
        if (len === findSize) break;
      }
    }
    if (best === null) return null;
    const len = best.text.length;
    best.epilogue = this.n - start >= len + 2 && this.s.charCodeAt(start + len) === DASH && this.s.charCodeAt(start + len + 1) === DASH;
    return best;
  }

  /** Parses `part`'s header and body; returns the part to continue with, or null at the end. */
  private parsePart(part: Builder): Builder | null {
    const endedBy = this.scanHeader(part);
    if (endedBy !== 'blank') this.endOfHeader(part, false);
    if (part.message) {
      if (part.depth + 1 < this.maxNested && !part.overflow && !this.flat) {
        return this.appendChild(part, false);
      }
      part.message = false;
      part.overflow = true;
    }
    return this.scanBody(part);
  }

  /**
   * The header is complete: fields, flags, Content-* data; at a blank line a multipart opens here
   * (before the next line is looked at, so that its own boundary is known).
   */
  private endOfHeader(part: Builder, blank: boolean): void {
    part.fields = headerFields(this.s, part.headerStart, part.headerStart + part.header.physical, usedField, 0, this.buf);
    this.classify(part);
    const boundary = part.isMime && part.multipart ? this.boundaryParam(part) : null;
    if (!blank || boundary === null) return;
    if (part.depth + 1 < this.maxNested && !part.overflow) {
      this.boundaries.push({ part, text: boundary, epilogue: false });
    } else {
      part.multipart = false;
      part.overflow = true;
    }
  }

  /**
   * Reads header lines from this.pos; stops at EOF, or before a line that is an open boundary (not
   * the part's own), or after the blank line — but when the line after the blank line is such a
   * boundary, the blank line's newline goes to the boundary as any other last newline does.
   */
  private scanHeader(part: Builder): 'blank' | 'eof' | 'boundary' {
    let lastNewline = 0;
    let blank = false;
    for (;;) {
      const at = this.pos;
      if (at >= this.n) return blank ? 'blank' : 'eof';
      const b = this.boundaryAt(at);
      if (b !== null && b.part !== part) {
        if (lastNewline > 0 && part.parent !== null) {
          part.header.lines--;
          part.header.physical -= lastNewline;
          part.header.virtual -= 2;
          part.parent.body.lines++;
          part.parent.body.physical += lastNewline;
          part.parent.body.virtual += 2;
        }
        return blank ? 'blank' : 'boundary';
      }
      if (blank) return 'blank';
      const lf = this.s.indexOf('\n', at);
      const lineEnd = lf < 0 ? this.n : lf + 1;
      this.add(part.header, at, lineEnd);
      this.pos = lineEnd;
      if (lf < 0) return 'eof';
      const crlf = lf > at && this.s.charCodeAt(lf - 1) === CR;
      lastNewline = crlf ? 2 : 1;
      if (lf === at || (crlf && lf - 1 === at)) {
        blank = true;
        this.endOfHeader(part, true);
      }
    }
  }

  /** Flags and Content-* data from the fields (Dovecot's end-of-header rules). */
  private classify(part: Builder): void {
    let seenType = false;
    for (const f of part.fields) {
      if (!f.hasColon) continue; // a line without ':' names nothing
      const name = f.name.toLowerCase();
      if (name === 'mime-version') part.isMime = true;
      else if (name === 'content-type') {
        part.isMime = true;
        if (seenType) {
          // Dovecot's search decides by the last one (message-search.c parses each in turn)
          const ct = parseContentTypeValue(f.value);
          part.lastTypeText = searchedAsText(ct.type, ct.subtype);
          continue;
        }
        seenType = true;
        part.contentType = parseContentTypeValue(f.value);
        const raw = part.contentType.raw.toLowerCase();
        if (raw === 'message/rfc822') part.message = true;
        else if (raw.startsWith('text') && (raw.length === 4 || raw[4] === '/')) part.text = true;
        else if (raw.startsWith('multipart/')) {
          part.multipart = true;
          if (raw === 'multipart/digest') part.digest = true;
        }
      }
    }
    if (!part.isMime) {
      part.multipart = part.message = part.text = part.digest = false;
    }
    if (!seenType || !part.isMime) {
      if (part.parent !== null && part.parent.digest) part.message = true;
      else part.text = true;
    }
  }

  /** The boundary parameter of the first Content-Type (truncated as Dovecot does), or null. */
  private boundaryParam(part: Builder): string | null {
    const ct = part.contentType;
    if (ct === null || !ct.valid) return null;
    const p = ct.params.find((x) => x.name.toLowerCase() === 'boundary');
    if (p === undefined) return null;
    let text = p.value;
    const nul = text.indexOf('\0');
    if (nul >= 0) text = text.slice(0, nul);
    return text.slice(0, BOUNDARY_MAX);
  }

  /**
   * A new child where the parent's bytes so far end (Dovecot's rule: a blank line given to an outer
   * boundary still sits before an embedded message that starts after it).
   */
  private appendChild(parent: Builder, isMime: boolean): Builder {
    this.total++;
    const child = this.newPart(parent, parent.headerStart + parent.header.physical + parent.body.physical, isMime);
    if (this.total >= this.maxTotal) {
      child.overflow = true;
      this.flat = true;
    }
    return child;
  }

  /** Closes `part`: its header and body are added to the parent's body. */
  private finish(part: Builder): Builder {
    const parent = part.parent as Builder;
    parent.body.physical += part.header.physical + part.body.physical;
    parent.body.virtual += part.header.virtual + part.body.virtual;
    parent.body.lines += part.header.lines + part.body.lines;
    return parent;
  }

  /**
   * Reads `part`'s body from this.pos up to the next boundary line (or EOF), then handles the
   * boundary; returns the next part to parse, or null when the message is done.
   */
  private scanBody(part: Builder): Builder | null {
    const bodyFrom = this.pos;
    let cur = part;
    if (this.boundaries.length > 0 && !this.flat) {
      // the first line, then only lines that start with "--" (after a LF): no other can be a boundary
      const first = this.boundaryAt(bodyFrom);
      if (first !== null) {
        this.add(cur.body, bodyFrom, bodyFrom);
        return this.boundaryFound(cur, first, bodyFrom, bodyFrom);
      }
      let lf = this.s.indexOf('\n--', bodyFrom);
      while (lf >= 0) {
        const b = this.boundaryAt(lf + 1);
        if (b !== null) {
          const nlStart = lf > bodyFrom && this.s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
          this.add(cur.body, bodyFrom, nlStart);
          return this.boundaryFound(cur, b, nlStart, lf + 1);
        }
        lf = this.s.indexOf('\n--', lf + 1);
      }
    }
    this.add(cur.body, bodyFrom, this.n);
    this.pos = this.n;
    while (cur.parent !== null) cur = this.finish(cur);
    return null;
  }

  private boundaryFound(from: Builder, b: Boundary, nlStart: number, lineStart: number): Builder | null {
    let cur = from;
    while (cur !== b.part) cur = this.finish(cur);
    const idx = this.boundaries.indexOf(b);
    this.boundaries.length = b.epilogue ? idx : idx + 1;
    const lineBytesEnd = lineStart + 2 + b.text.length + (b.epilogue ? 2 : 0);
    const lf = this.s.indexOf('\n', lineBytesEnd);
    const lineEnd = lf < 0 ? this.n : lf + 1;
    this.add(cur.body, nlStart, lineEnd);
    this.pos = lineEnd;
    const top = this.boundaries[this.boundaries.length - 1];
    if (lf < 0) {
      // the boundary line is the last line and has no LF: nothing follows, no part opens
      while (cur.parent !== null) cur = this.finish(cur);
      return null;
    }
    if (top !== undefined && top.part === cur) return this.appendChild(cur, true);
    return this.scanBody(cur);
  }

  private freeze(b: Builder, withEnvelope: boolean): MimePart {
    const data = b.isMime ? contentData(b.fields, b.contentType) : NO_CONTENT;
    const kind: MimeKind = b.message ? 'message' : b.multipart ? 'multipart' : b.text ? 'text' : 'other';
    const bodyStart = b.headerStart + b.header.physical;
    const envelope: HeaderEnvelope | null = withEnvelope ? envelopeFromFields(b.fields) : null;
    const children: MimePart[] = [];
    for (const c of b.children) children.push(this.freeze(c, b.message));
    // written out, not spread: the same keys in the same order (the cached JSON), less work before the JIT
    const part: MimePart = {
      headerStart: b.headerStart,
      bodyStart,
      end: bodyStart + b.body.physical,
      header: { physical: b.header.physical, virtual: b.header.virtual, lines: b.header.lines },
      body: { physical: b.body.physical, virtual: b.body.virtual, lines: b.body.lines },
      kind,
      overflow: b.overflow,
      type: data.type,
      subtype: data.subtype,
      params: data.params,
      id: data.id,
      description: data.description,
      encoding: data.encoding,
      md5: data.md5,
      disposition: data.disposition,
      dispositionParams: data.dispositionParams,
      language: data.language,
      location: data.location,
      children,
      envelope,
    };
    // only on the rare part with two Content-Type fields: other trees (and their JSON) are as before
    if (b.lastTypeText !== undefined) (part as { searchText?: boolean }).searchText = b.lastTypeText;
    return part;
  }
}

interface ContentData {
  type: string | null;
  subtype: string | null;
  params: MimeParam[];
  id: string | null;
  description: string | null;
  encoding: string | null;
  md5: string | null;
  disposition: string | null;
  dispositionParams: MimeParam[];
  language: string[] | null;
  location: string | null;
}

const NO_CONTENT: ContentData = {
  type: null,
  subtype: null,
  params: [],
  id: null,
  description: null,
  encoding: null,
  md5: null,
  disposition: null,
  dispositionParams: [],
  language: null,
  location: null,
};

/** Content-* fields as Dovecot keeps them: the first of each (Disposition: until one has parameters). */
function contentData(fields: readonly HeaderField[], contentType: ContentType | null): ContentData {
  const d: ContentData = { ...NO_CONTENT, params: [], dispositionParams: [] };
  let dispositionHasParams = false;
  for (const f of fields) {
    const name = f.name.toLowerCase();
    if (!f.hasColon || !name.startsWith('content-')) continue;
    switch (name.slice(8)) {
      case 'type':
        if (d.type === null) {
          const ct = contentType ?? parseContentTypeValue(f.value);
          d.type = ct.type;
          d.subtype = ct.subtype;
          d.params = ct.params;
        }
        break;
      case 'transfer-encoding':
        if (d.encoding === null) d.encoding = parseEncodingValue(f.value);
        break;
      case 'id':
        if (d.id === null) d.id = headerString(f.value);
        break;
      case 'md5':
        if (d.md5 === null) d.md5 = headerString(f.value);
        break;
      case 'description':
        if (d.description === null) d.description = headerString(f.value);
        break;
      case 'location':
        if (d.location === null) d.location = headerString(f.value);
        break;
      case 'language':
        if (d.language === null) d.language = parseLanguageValue(f.value);
        break;
      case 'disposition':
        if (!dispositionHasParams) {
          const disp = parseDispositionValue(f.value);
          if (disp !== null) {
            d.disposition = disp.disposition;
            d.dispositionParams = disp.params;
            dispositionHasParams = disp.params.length > 0;
          }
        }
        break;
    }
  }
  return d;
}
