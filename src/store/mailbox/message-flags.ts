/**
 * IMAP flags ↔ what the index and the file name hold: system flags as maildir-info's bit mask, keywords
 * as a sorted space-separated string in the index and, for the first 26 a folder's dovecot-keywords names,
 * as letters in the `:2,` part. A keyword without a letter is kept in the index only, so renaming the file
 * for another flag never drops it.
 */
import { FLAG_BITS, formatMaildirInfo, parseMaildirInfo, splitMaildirFileName, type MaildirFlags } from '../maildir/maildir-info.js';
import type { Flag } from './mailbox-store.js';

/** The contract's order (SYSTEM_FLAGS in mailbox-store.ts). */
const ORDER: readonly (readonly [Flag, number])[] = [
  ['\\Seen', FLAG_BITS['\\Seen']],
  ['\\Answered', FLAG_BITS['\\Answered']],
  ['\\Flagged', FLAG_BITS['\\Flagged']],
  ['\\Deleted', FLAG_BITS['\\Deleted']],
  ['\\Draft', FLAG_BITS['\\Draft']],
];
const BIT_OF = new Map(ORDER.map(([f, b]) => [f.toLowerCase(), b] as const));

export const SEEN_BIT = FLAG_BITS['\\Seen'];
export const DELETED_BIT = FLAG_BITS['\\Deleted'];

export interface IndexFlags {
  readonly bits: number;
  /** Sorted, space-separated ('' when none). */
  readonly keywords: string;
}

/**
 * Flags as given by a client → bits and keywords. System flags match case-insensitively (RFC 3501 §2.3.2);
 * \Recent and other backslash names are not storable and are left out.
 */
export function toIndexFlags(flags: Iterable<Flag>): IndexFlags {
  let bits = 0;
  const keywords = new Set<string>();
  for (const flag of flags) {
    if (flag.startsWith('\\')) bits |= BIT_OF.get(flag.toLowerCase()) ?? 0;
    else if (flag.length > 0 && !/[\s()\]{%*"\\]/u.test(flag)) keywords.add(flag);
  }
  return { bits, keywords: [...keywords].sort().join(' ') };
}

export function keywordList(keywords: string): string[] {
  return keywords === '' ? [] : keywords.split(' ');
}

export function toFlags(bits: number, keywords: string): Flag[] {
  const out: Flag[] = [];
  for (const [flag, bit] of ORDER) if ((bits & bit) !== 0) out.push(flag);
  if (keywords !== '') out.push(...keywords.split(' '));
  return out;
}

/** The `:2,` flags of a file name with their keywords' names through the folder's letters. */
export function flagsOfFileName(fname: string, letters: readonly string[]): { bits: number; named: string[]; parsed: MaildirFlags } {
  const parsed = parseMaildirInfo(splitMaildirFileName(fname).info);
  const named: string[] = [];
  for (const ch of parsed.keywords) {
    const keyword = letters[ch.charCodeAt(0) - 0x61];
    if (keyword !== undefined && keyword !== '') named.push(keyword);
  }
  return { bits: parsed.system, named, parsed };
}

/**
 * The keywords a message has after its file was renamed by someone else: the letters in the new name, plus
 * the index's keywords that have no letter (the name could not have carried them).
 */
export function mergeKeywords(named: readonly string[], indexKeywords: string, letters: readonly string[]): string {
  const out = new Set(named);
  for (const k of keywordList(indexKeywords)) if (!letters.includes(k)) out.add(k);
  return [...out].sort().join(' ');
}

/** The cur/ file name for a base with these flags (letters for the keywords that have one; other letters kept). */
export function curFileName(base: string, bits: number, keywords: string, letters: readonly string[], other = ''): string {
  let kw = '';
  for (const k of keywordList(keywords)) {
    const i = letters.indexOf(k);
    if (i >= 0 && i < 26) kw += String.fromCharCode(0x61 + i);
  }
  return `${base}:${formatMaildirInfo({ system: bits, keywords: kw, other })}`;
}
