/**
 * Dovecot's `dovecot-keywords` in a folder: `<index> <keyword>` lines; index 0–25 is the letter a–z in a
 * file name's `:2,` part. Keywords past the 26th live only in the index (Dovecot does the same with its
 * own index). (A stand-in for the file layer's keywords-file.ts, which was not on i11-maildir yet.)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireDotlock } from '../maildir/dotlock.js';

export const KEYWORDS_FILE = 'dovecot-keywords';
export const MAX_KEYWORD_LETTERS = 26;

/** Index → keyword ('' for a gap); [] when the file is missing. */
export async function readKeywords(dir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(dir, KEYWORDS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\S+)$/.exec(line);
    if (m === null) continue;
    const index = Number(m[1]);
    if (index >= MAX_KEYWORD_LETTERS) continue;
    while (out.length < index) out.push('');
    out[index] = m[2] as string;
  }
  return out;
}

/**
 * Gives letters to `wanted` keywords that have none (while letters are left) and rewrites the file when
 * that added any; returns the new list. Re-reads under the lock, so another writer's letters are kept.
 */
export async function addKeywords(dir: string, wanted: readonly string[]): Promise<string[]> {
  const lock = await acquireDotlock(join(dir, KEYWORDS_FILE));
  try {
    const list = await readKeywords(dir);
    let added = false;
    for (const keyword of wanted) {
      if (list.includes(keyword) || list.length >= MAX_KEYWORD_LETTERS) continue;
      list.push(keyword);
      added = true;
    }
    if (added) await lock.replace(list.map((k, i) => (k === '' ? '' : `${i} ${k}\n`)).join(''));
    return list;
  } finally {
    await lock.release();
  }
}
