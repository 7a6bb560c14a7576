/**
 * The recursive-descent primitives command parsers are built from: one cursor walks the arguments of one
 * CommandFrame (text and literals in order) and each method reads one RFC 3501 §9 production or throws a
 * ParseError that says what was expected and at which column (octets from the start of the command; see
 * frame.ts). Nothing here knows a command: handlers combine these.
 */
import { decodeMutf7 } from '../../mail/mutf7.js';
import { parseDate, parseDateTime, type ImapDate, type ImapDateTime } from './datetime.js';
import { ParseError, type CommandFrame, type FrameSegment, type LiteralSegment } from './frame.js';
import { isAstringChar, isAtomChar, isDigit, isListChar, isTagChar } from './grammar.js';
import { parseSequenceSet, type SequenceSet } from './sequence-set.js';

/** Where a cursor is; see save() / restore(). */
export interface CursorMark {
  readonly segment: number;
  readonly index: number;
}

/** section-spec (RFC 3501 §9): part numbers, then at most one text specifier. */
export interface SectionSpec {
  /** Part numbers ("1.2" → [1, 2]); empty for the whole message. */
  readonly part: readonly number[];
  readonly text?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Header field names of HEADER.FIELDS (.NOT), as sent. */
  readonly fields?: readonly string[];
}

/** `<start.length>` of a FETCH BODY[...] item. */
export interface PartialRange {
  readonly start: number;
  readonly length: number;
}

/** The system flags (and \\Recent) by their lower-case spelling → the spelling used in responses. */
const SYSTEM_BY_LOWER = new Map<string, string>(['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft', '\\Recent'].map((f) => [f.toLowerCase(), f]));

const MAX_NUMBER = 4294967295;
const MAX_NUMBER64 = (1n << 63n) - 1n;
const EMPTY = Buffer.alloc(0);

function describe(b: number): string {
  if (b < 0) return 'end of command';
  if (b >= 0x21 && b <= 0x7e) return `"${String.fromCharCode(b)}"`;
  if (b === 0x20) return 'SP';
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

export class ArgCursor {
  private readonly segments: readonly FrameSegment[];
  private segment = 0;
  private index: number;
  private text: Buffer;

  constructor(frame: Pick<CommandFrame, 'segments' | 'argsOffset'>) {
    this.segments = frame.segments;
    const first = frame.segments[0];
    this.text = first?.kind === 'text' ? first.bytes : EMPTY;
    this.index = Math.min(frame.argsOffset - (first?.offset ?? 0), this.text.length);
  }

  /** Octets from the start of the command. */
  get position(): number {
    return (this.segments[this.segment]?.offset ?? 0) + this.index;
  }

  save(): CursorMark {
    return { segment: this.segment, index: this.index };
  }

  restore(mark: CursorMark): void {
    this.segment = mark.segment;
    this.index = mark.index;
    const seg = this.segments[mark.segment];
    this.text = seg?.kind === 'text' ? seg.bytes : EMPTY;
  }

  /** The next byte of the current line, or -1 at its end (end of command, or a literal next). */
  peek(): number {
    return this.index < this.text.length ? this.text[this.index]! : -1;
  }

  /** Whether a literal comes next. */
  atLiteral(): boolean {
    return this.index >= this.text.length && this.segments[this.segment + 1]?.kind === 'literal';
  }

  atEnd(): boolean {
    return this.index >= this.text.length && this.segment + 1 >= this.segments.length;
  }

  /** Throws a ParseError at the current position: "expected <what> at column N (found …)". */
  fail(what: string, at = this.position): never {
    const found = this.atLiteral() ? 'a literal' : describe(this.peek());
    throw new ParseError(`expected ${what} at column ${at} (found ${found})`, at);
  }

  /** Consumes `char` if it is next. */
  tryChar(char: string): boolean {
    if (this.peek() !== char.charCodeAt(0)) return false;
    this.index++;
    return true;
  }

  expect(char: string, what = `"${char}"`): void {
    if (!this.tryChar(char)) this.fail(what);
  }

  sp(): void {
    this.expect(' ', 'SP');
  }

  /** The end of the command: nothing may follow. */
  end(): void {
    if (!this.atEnd()) this.fail('end of command');
  }

  private run(test: (b: number) => boolean): string {
    const start = this.index;
    while (this.index < this.text.length && test(this.text[this.index]!)) this.index++;
    return this.text.toString('latin1', start, this.index);
  }

  /** atom: 1*ATOM-CHAR. */
  atom(what = 'an atom'): string {
    const s = this.run(isAtomChar);
    if (s.length === 0) this.fail(what);
    return s;
  }

  /** An atom that stops before "[" and "<" too: FETCH item names such as BODY.PEEK in BODY.PEEK[1]<0.5>. */
  itemName(what = 'a data item name'): string {
    const s = this.run((b) => isAtomChar(b) && b !== 0x5b && b !== 0x3c);
    if (s.length === 0) this.fail(what);
    return s;
  }

  /** tag: 1*<ASTRING-CHAR except "+">. */
  tag(): string {
    const s = this.run(isTagChar);
    if (s.length === 0) this.fail('a tag');
    return s;
  }

  /** number: 1*DIGIT within 0..4294967295. */
  number(what = 'a number'): number {
    const at = this.position;
    const s = this.run(isDigit);
    if (s.length === 0) this.fail(what);
    if (s.length > 10 || Number(s) > MAX_NUMBER) throw new ParseError(`number over 4294967295 at column ${at}`, at);
    return Number(s);
  }

  /** nz-number: a number other than 0. */
  nzNumber(what = 'a non-zero number'): number {
    const at = this.position;
    const n = this.number(what);
    if (n === 0) throw new ParseError(`expected ${what} at column ${at} (found 0)`, at);
    return n;
  }

  /** A 63-bit number (mod-sequence-value, RFC 7162), exact. */
  number64(what = 'a number'): bigint {
    const at = this.position;
    const s = this.run(isDigit);
    if (s.length === 0) this.fail(what);
    const n = s.length > 19 ? MAX_NUMBER64 + 1n : BigInt(s);
    if (n > MAX_NUMBER64) throw new ParseError(`number over 9223372036854775807 at column ${at}`, at);
    return n;
  }

  /** quoted: DQUOTE *QUOTED-CHAR DQUOTE, with \" and \\ the only escapes. 8-bit is let through (UTF-8). */
  quotedBytes(): Buffer {
    const start = this.position;
    this.expect('"', 'a quoted string');
    // Fast path: no escapes before the closing quote.
    let end = this.index;
    while (end < this.text.length) {
      const c = this.text[end]!;
      if (c === 0x22 || c === 0x5c || c === 0x00 || c === 0x0d || c === 0x0a) break;
      end++;
    }
    if (this.text[end] === 0x22) {
      const plain = Buffer.from(this.text.subarray(this.index, end));
      this.index = end + 1;
      return plain;
    }
    const out: number[] = [];
    for (;;) {
      const b = this.peek();
      if (b < 0) throw new ParseError(`unterminated quoted string (opened at column ${start})`, this.position);
      this.index++;
      if (b === 0x22) break;
      if (b === 0x5c) {
        const e = this.peek();
        if (e !== 0x22 && e !== 0x5c) this.fail('\\" or \\\\ after a backslash in a quoted string');
        this.index++;
        out.push(e);
      } else if (b === 0x00 || b === 0x0d || b === 0x0a) {
        this.index--;
        this.fail('a quoted-string character');
      } else {
        out.push(b);
      }
    }
    return Buffer.from(out);
  }

  /** A literal's payload; the cursor moves to the text after it. (Empty when sunk: see literalSegment().) */
  literal(): Buffer {
    return this.literalSegment().data;
  }

  /** The next literal as the reader framed it (size, and whether its bytes went to a sink). */
  literalSegment(): LiteralSegment {
    if (!this.atLiteral()) this.fail('a literal');
    const seg = this.segments[this.segment + 1] as LiteralSegment;
    this.segment += 2;
    const next = this.segments[this.segment];
    this.text = next?.kind === 'text' ? next.bytes : EMPTY;
    this.index = 0;
    return seg;
  }

  /** string: quoted or literal, as bytes. */
  stringBytes(what = 'a string'): Buffer {
    if (this.atLiteral()) return this.literal();
    if (this.peek() === 0x22) return this.quotedBytes();
    this.fail(what);
  }

  /** string as UTF-8 text. */
  string(what = 'a string'): string {
    return this.stringBytes(what).toString('utf8');
  }

  /** astring: 1*ASTRING-CHAR / string, as bytes. */
  astringBytes(what = 'an astring'): Buffer {
    if (this.atLiteral() || this.peek() === 0x22) return this.stringBytes(what);
    const start = this.index;
    while (this.index < this.text.length && isAstringChar(this.text[this.index]!)) this.index++;
    if (this.index === start) this.fail(what);
    return this.text.subarray(start, this.index);
  }

  astring(what = 'an astring'): string {
    return this.astringBytes(what).toString('utf8');
  }

  /** nstring: NIL / string; null for NIL. */
  nstringBytes(what = 'a string or NIL'): Buffer | null {
    if (this.atLiteral() || this.peek() === 0x22) return this.stringBytes(what);
    const mark = this.save();
    const word = this.run(isAtomChar);
    if (word.toUpperCase() === 'NIL') return null;
    this.restore(mark);
    this.fail(what);
  }

  nstring(what = 'a string or NIL'): string | null {
    const b = this.nstringBytes(what);
    return b === null ? null : b.toString('utf8');
  }

  /** "(" [item *(SP item)] ")": `item` reads one element. `allowEmpty` false demands at least one. */
  list<T>(item: (cursor: this) => T, options: { allowEmpty?: boolean; what?: string } = {}): T[] {
    this.expect('(', options.what ?? '"("');
    const items: T[] = [];
    if (this.tryChar(')')) {
      if (options.allowEmpty === false) this.fail(options.what ?? 'a list element', this.position - 1);
      return items;
    }
    for (;;) {
      items.push(item(this));
      if (this.tryChar(')')) return items;
      this.expect(' ', 'SP or ")"');
    }
  }

  /**
   * flag: a system flag (case-insensitive, returned in canonical spelling: "\Seen"), "\Recent" (the
   * command decides whether it may appear), another "\" atom (flag-extension), or a keyword atom.
   * `allowStar`: "\*" (flag-perm) is accepted too.
   */
  flag(options: { allowStar?: boolean } = {}): string {
    if (this.tryChar('\\')) {
      if (options.allowStar === true && this.tryChar('*')) return '\\*';
      const name = this.run(isAtomChar);
      if (name.length === 0) this.fail('a flag name after "\\"');
      const flag = `\\${name}`;
      return SYSTEM_BY_LOWER.get(flag.toLowerCase()) ?? flag;
    }
    return this.atom('a flag');
  }

  /** flag-list: "(" [flag *(SP flag)] ")". */
  flagList(): string[] {
    return this.list((c) => c.flag(), { what: 'a flag list' });
  }

  /**
   * mailbox: an astring, modified UTF-7 decoded to Unicode; "INBOX" in any case (and as the first
   * component of a '/'-separated name) becomes "INBOX" (RFC 3501 §5.1). Not valid mUTF-7: a ParseError
   * with status NO.
   */
  mailbox(): string {
    const at = this.position;
    const raw = this.astringBytes('a mailbox name').toString('latin1');
    const name = decodeMutf7(raw);
    // Dovecot: "NO Mailbox name is not valid mUTF-7" (a NO, not a BAD).
    if (name === undefined) throw new ParseError(`Mailbox name is not valid mUTF-7 (column ${at})`, at, undefined, 'NO');
    return canonicalInbox(name);
  }

  /** list-mailbox: 1*list-char / string; decoded from modified UTF-7 when it is valid, else as sent. */
  listMailbox(): string {
    let raw: string;
    if (this.atLiteral() || this.peek() === 0x22) raw = this.stringBytes().toString('latin1');
    else {
      raw = this.run(isListChar);
      if (raw.length === 0) this.fail('a mailbox pattern');
    }
    return decodeMutf7(raw) ?? raw;
  }

  /** sequence-set: numbers, ranges and "*" separated by ",". */
  sequenceSet(): SequenceSet {
    const at = this.position;
    const text = this.run((b) => isDigit(b) || b === 0x3a || b === 0x2a || b === 0x2c);
    if (text.length === 0) this.fail('a sequence set');
    return parseSequenceSet(text, at);
  }

  /** date: date-text / DQUOTE date-text DQUOTE ("1-Feb-2026"). */
  date(): ImapDate {
    const at = this.position;
    const text = this.peek() === 0x22 ? this.quotedBytes().toString('latin1') : this.run((b) => isAtomChar(b));
    const date = parseDate(text);
    if (date === undefined) throw new ParseError(`expected a date like 1-Feb-2026 at column ${at}`, at);
    return date;
  }

  /** date-time: DQUOTE "dd-Mon-yyyy hh:mm:ss +zzzz" DQUOTE. */
  dateTime(): ImapDateTime {
    const at = this.position;
    if (this.peek() !== 0x22) this.fail('a quoted date-time like "01-Feb-2026 10:00:00 +0000"');
    const value = parseDateTime(this.quotedBytes().toString('latin1'));
    if (value === undefined) throw new ParseError(`expected a date-time like "01-Feb-2026 10:00:00 +0000" at column ${at}`, at);
    return value;
  }

  /**
   * section: "[" [section-spec] "]" (RFC 3501 §9): `1.2.HEADER.FIELDS (From To)`, `TEXT`, `3.MIME`, ….
   */
  section(): SectionSpec {
    this.expect('[', '"["');
    if (this.tryChar(']')) return { part: [] };
    const part: number[] = [];
    let text: SectionSpec['text'];
    let fields: string[] | undefined;
    while (isDigit(this.peek())) {
      part.push(this.nzNumber('a part number'));
      if (!this.tryChar('.')) break;
      if (!isDigit(this.peek())) {
        text = this.sectionText(true);
        break;
      }
    }
    if (part.length === 0) text = this.sectionText(false);
    if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
      this.sp();
      fields = this.list((c) => c.astring('a header field name'), { allowEmpty: false, what: 'a list of header field names' });
    }
    this.expect(']', '"]"');
    return fields !== undefined ? { part, text: text!, fields } : text !== undefined ? { part, text } : { part };
  }

  private sectionText(afterPart: boolean): NonNullable<SectionSpec['text']> {
    const at = this.position;
    const word = this.run((b) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2e).toUpperCase();
    switch (word) {
      case 'HEADER':
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
      case 'TEXT':
        return word;
      case 'MIME':
        if (afterPart) return word;
        break;
    }
    this.index -= word.length;
    this.fail(afterPart ? 'HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME' : 'a part number, HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT or TEXT', at);
  }

  /** partial: "<" number "." nz-number ">", if one is next; undefined otherwise. */
  partial(): PartialRange | undefined {
    if (!this.tryChar('<')) return undefined;
    const start = this.number('the first octet of a partial');
    this.expect('.', '"." in a partial');
    const length = this.nzNumber('a non-zero length in a partial');
    this.expect('>', '">"');
    return { start, length };
  }
}

/** "inbox" → "INBOX", "Inbox/x" → "INBOX/x"; other names unchanged (they are case-sensitive). */
export function canonicalInbox(name: string): string {
  if (name.length < 5 || name.slice(0, 5).toUpperCase() !== 'INBOX') return name;
  if (name.length === 5) return 'INBOX';
  return name[5] === '/' ? `INBOX${name.slice(5)}` : name;
}
