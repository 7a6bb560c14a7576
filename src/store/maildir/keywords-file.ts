/**
 * Dovecot's `dovecot-keywords`: which keyword each letter a–z of a Maildir file name's info part stands for,
 * one `<index> <name>` line each (index 0 is 'a'; checked against Dovecot 2.3 in dovecot-compat.test.ts).
 * Dovecot keeps at most 26 (MAILDIR_MAX_KEYWORDS); keywords past those live only in an index. Written as
 * Dovecot does: under `dovecot-keywords.lock`, the new content renamed over the file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock, type DotlockOptions } from './dotlock.js';

export const KEYWORDS_FILE = 'dovecot-keywords';
export const MAX_FILE_KEYWORDS = 26;

/** index (0–25) → keyword; a sparse array is possible (a line Dovecot wrote and another removed). */
export type KeywordTable = ReadonlyMap<number, string>;

/** An IMAP flag keyword: an RFC 3501 atom (printable ASCII without atom-specials, ']' included). */
export function isKeywordAtom(name: string): boolean {
  return /^[\x21-\x7e]+$/.test(name) && !/[(){%*"\\\]]/.test(name);
}

/**
 * Parses the file. Lines that are not `<index 0–25> <atom>` are skipped (Dovecot ignores them too), and a
 * keyword named twice keeps its first index, so the mapping is always one-to-one.
 */
export function parseKeywords(text: string): KeywordTable {
  const table = new Map<number, string>();
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(\d{1,2}) (.+)$/.exec(line);
    if (m === null) continue;
    const index = Number(m[1]);
    const name = m[2] as string;
    if (index >= MAX_FILE_KEYWORDS || table.has(index) || !isKeywordAtom(name) || seen.has(name.toLowerCase())) continue;
    table.set(index, name);
    seen.add(name.toLowerCase());
  }
  return table;
}

/** The file's text, by index. Throws on an index past 25 or a name that is not an atom. */
export function formatKeywords(table: KeywordTable): string {
  return [...table.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, name]) => {
      if (!Number.isInteger(index) || index < 0 || index >= MAX_FILE_KEYWORDS) throw new Error(`bad keyword index ${index}`);
      if (!isKeywordAtom(name)) throw new Error(`bad keyword "${name}"`);
      return `${index} ${name}\n`;
    })
    .join('');
}

/** The index of `keyword` (keywords compare case-insensitively, as IMAP's do), or undefined. */
export function keywordIndexOf(table: KeywordTable, keyword: string): number | undefined {
  const lower = keyword.toLowerCase();
  for (const [index, name] of table) if (name.toLowerCase() === lower) return index;
  return undefined;
}

/**
 * `table` with `keyword` in it: its index when there, else the lowest free index. Undefined when all 26
 * are taken (the keyword then lives in the index only).
 */
export function withKeyword(table: KeywordTable, keyword: string): { table: KeywordTable; index: number } | undefined {
  const known = keywordIndexOf(table, keyword);
  if (known !== undefined) return { table, index: known };
  if (!isKeywordAtom(keyword)) throw new Error(`bad keyword "${keyword}"`);
  for (let index = 0; index < MAX_FILE_KEYWORDS; index++) {
    if (!table.has(index)) return { table: new Map([...table, [index, keyword]]), index };
  }
  return undefined;
}

/** Reads `<dir>/dovecot-keywords` (an empty table when absent). */
export async function readKeywords(dir: string): Promise<KeywordTable> {
  try {
    return parseKeywords(await readFile(join(dir, KEYWORDS_FILE), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
}

/** Replaces `<dir>/dovecot-keywords` with `table`, atomically and durably, under its dotlock. */
export async function writeKeywords(dir: string, table: KeywordTable, options: DotlockOptions = {}): Promise<void> {
  const text = formatKeywords(table);
  const lock = await acquireDotlock(join(dir, KEYWORDS_FILE), options);
  try {
    await lock.replace(text);
  } finally {
    await lock.release();
  }
}
