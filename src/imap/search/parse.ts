/**
 * SEARCH's arguments (RFC 3501 §6.4.4 and §9 search-key; MODSEQ of RFC 7162 §3.1.5) → a SearchKey tree.
 * Every RFC 3501 key, sequence sets, UID sets, parenthesised lists, NOT and OR nested to any depth up to a
 * limit (a stack guard: deeper is a ParseError, never a crash). Strings are astrings in the command's
 * CHARSET, decoded to Unicode here: UTF-8 (the default) and US-ASCII, and, as Dovecot accepts them too,
 * any charset iconv-lite knows (ISO-8859-*, KOI8-R...). An unknown charset is not an error
 * of syntax: the parse succeeds with `badCharset` and the command answers NO [BADCHARSET (UTF-8
 * US-ASCII)] (RFC 3501 §6.4.4), naming the two it promises. Only ParseError is ever thrown.
 */
import iconv from 'iconv-lite';
import { decodeCharset } from '../../mail/mime/decode-text.js';
import type { ArgCursor } from '../command.js';
import type { ImapDate } from '../wire/datetime.js';
import { ParseError } from '../wire/frame.js';
import type { SequenceSet } from '../wire/sequence-set.js';

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { readonly k: 'all' }
  | { readonly k: 'and'; readonly keys: readonly SearchKey[] }
  | { readonly k: 'or'; readonly a: SearchKey; readonly b: SearchKey }
  | { readonly k: 'not'; readonly key: SearchKey }
  /** a system flag or keyword is set */
  | { readonly k: 'flag'; readonly flag: string }
  | { readonly k: 'recent' }
  | { readonly k: 'seq'; readonly set: SequenceSet }
  | { readonly k: 'uid'; readonly set: SequenceSet }
  | { readonly k: 'size'; readonly op: 'larger' | 'smaller'; readonly n: number }
  | { readonly k: 'date'; readonly sent: boolean; readonly op: DateOp; readonly date: ImapDate }
  | { readonly k: 'modseq'; readonly n: number }
  /**
   * a header field contains the text (field lower case; FROM/TO/CC/BCC/SUBJECT are this too; `address`:
   * the FROM/TO/CC/BCC keys, matched against the rebuilt address list; `subject`: the SUBJECT key)
   */
  | { readonly k: 'header'; readonly field: string; readonly text: string; readonly address?: boolean; readonly subject?: boolean }
  | { readonly k: 'body'; readonly text: string }
  | { readonly k: 'text'; readonly text: string };

export interface SearchQuery {
  readonly key: SearchKey;
  /** the CHARSET given, upper case, if any */
  readonly charset?: string;
  /** a CHARSET other than UTF-8 / US-ASCII: answer NO [BADCHARSET] */
  readonly badCharset: boolean;
  /** MODSEQ was used (CONDSTORE: the result carries the highest MODSEQ, RFC 7162 §3.1.5) */
  readonly modseq: boolean;
}

/** Nesting deeper than this is refused (NOT NOT NOT ... or ((((...)))). */
const MAX_DEPTH = 64;
export const KNOWN_CHARSETS: readonly string[] = ['UTF-8', 'US-ASCII'];

const FLAG_KEYS: Readonly<Record<string, readonly [string, boolean]>> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const STRING_KEYS: Readonly<Record<string, string>> = { BCC: 'bcc', CC: 'cc', FROM: 'from', SUBJECT: 'subject', TO: 'to' };

const DATE_KEYS: Readonly<Record<string, readonly [boolean, DateOp]>> = {
  BEFORE: [false, 'before'],
  ON: [false, 'on'],
  SINCE: [false, 'since'],
  SENTBEFORE: [true, 'before'],
  SENTON: [true, 'on'],
  SENTSINCE: [true, 'since'],
};

class Parser {
  modseq = false;

  constructor(
    private readonly args: ArgCursor,
    private readonly charset: string,
  ) {}

  private text(): string {
    return decodeCharset(this.args.astringBytes('a search string'), this.charset);
  }

  key(depth: number): SearchKey {
    const args = this.args;
    if (depth > MAX_DEPTH) throw new ParseError(`search keys nested too deep (over ${MAX_DEPTH}) at column ${args.position}`, args.position);
    const c = args.peek();
    if (c === 0x28) {
      const keys = args.list((cur) => {
        void cur;
        return this.key(depth + 1);
      }, { allowEmpty: false, what: 'a search key' });
      return keys.length === 1 ? keys[0]! : { k: 'and', keys };
    }
    if ((c >= 0x30 && c <= 0x39) || c === 0x2a) return { k: 'seq', set: args.sequenceSet() };
    const at = args.position;
    const name = args.atom('a search key').toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag !== undefined) return flag[1] ? { k: 'flag', flag: flag[0] } : { k: 'not', key: { k: 'flag', flag: flag[0] } };
    const field = STRING_KEYS[name];
    if (field !== undefined) {
      args.sp();
      // the SUBJECT key (not HEADER Subject) matches whitespace-compressed text, as Dovecot: see summary.ts
      return field === 'subject' ? { k: 'header', field, text: this.text(), subject: true } : { k: 'header', field, text: this.text(), address: true };
    }
    const date = DATE_KEYS[name];
    if (date !== undefined) {
      args.sp();
      return { k: 'date', sent: date[0], op: date[1], date: args.date() };
    }
    switch (name) {
      case 'ALL':
        return { k: 'all' };
      case 'NEW':
        return { k: 'and', keys: [{ k: 'recent' }, { k: 'not', key: { k: 'flag', flag: '\\Seen' } }] };
      case 'OLD':
        return { k: 'not', key: { k: 'recent' } };
      case 'RECENT':
        return { k: 'recent' };
      case 'BODY':
        args.sp();
        return { k: 'body', text: this.text() };
      case 'TEXT':
        args.sp();
        return { k: 'text', text: this.text() };
      case 'HEADER': {
        args.sp();
        const fieldName = args.astringBytes('a header field name').toString('latin1').toLowerCase();
        args.sp();
        return { k: 'header', field: fieldName, text: this.text() };
      }
      case 'KEYWORD':
      case 'UNKEYWORD': {
        args.sp();
        const kw = args.atom('a keyword');
        return name === 'KEYWORD' ? { k: 'flag', flag: kw } : { k: 'not', key: { k: 'flag', flag: kw } };
      }
      case 'LARGER':
      case 'SMALLER':
        args.sp();
        return { k: 'size', op: name === 'LARGER' ? 'larger' : 'smaller', n: args.number('a size') };
      case 'NOT':
        args.sp();
        return { k: 'not', key: this.key(depth + 1) };
      case 'OR': {
        args.sp();
        const a = this.key(depth + 1);
        args.sp();
        return { k: 'or', a, b: this.key(depth + 1) };
      }
      case 'UID':
        args.sp();
        return { k: 'uid', set: args.sequenceSet() };
      case 'MODSEQ': {
        args.sp();
        // [entry-name SP entry-type-req SP]: a metadata item name; per-flag MODSEQs are not kept, so ignored
        if (args.peek() === 0x22) {
          args.quotedBytes();
          args.sp();
          const t = args.atom('priv, shared or all').toLowerCase();
          if (t !== 'priv' && t !== 'shared' && t !== 'all') throw new ParseError(`expected priv, shared or all at column ${args.position}`, args.position);
          args.sp();
        }
        this.modseq = true;
        return { k: 'modseq', n: Number(args.number64('a mod-sequence')) };
      }
    }
    throw new ParseError(`unknown search key ${name} at column ${at}`, at);
  }
}

/** A charset the search strings can be decoded from (decode-text.ts converts with iconv-lite). */
function knownCharset(charset: string): boolean {
  try {
    return charset === 'US-ASCII' || iconv.encodingExists(charset);
  } catch {
    return false;
  }
}

/** `SP [CHARSET SP astring SP] search-key *(SP search-key)`. */
export function parseSearch(args: ArgCursor): SearchQuery {
  args.sp();
  let charset: string | undefined;
  const mark = args.save();
  const first = args.peek() === 0x28 || args.atEnd() ? '' : (() => {
    try {
      return args.atom('a search key').toUpperCase();
    } catch {
      return '';
    }
  })();
  if (first === 'CHARSET') {
    args.sp();
    charset = args.astringBytes('a charset name').toString('latin1').toUpperCase();
    args.sp();
  } else args.restore(mark);
  const badCharset = charset !== undefined && !knownCharset(charset);
  const parser = new Parser(args, badCharset || charset === undefined ? 'utf-8' : charset);
  const keys: SearchKey[] = [parser.key(0)];
  while (args.peek() === 0x20) {
    args.sp();
    keys.push(parser.key(0));
  }
  return {
    key: keys.length === 1 ? keys[0]! : { k: 'and', keys },
    ...(charset !== undefined ? { charset } : {}),
    badCharset,
    modseq: parser.modseq,
  };
}
