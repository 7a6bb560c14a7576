/**
 * A folder's keyword letters as the store uses them: an array index → keyword ('' for a free letter),
 * over the file layer's dovecot-keywords table (store/maildir/keywords-file.ts). Keywords past the 26th
 * live only in the index, as Dovecot keeps them in its own.
 */
import { readKeywords, withKeyword, writeKeywords, type KeywordTable } from '../maildir/keywords-file.js';

function lettersOf(table: KeywordTable): string[] {
  const out: string[] = [];
  for (const [index, keyword] of table) {
    while (out.length < index) out.push('');
    out[index] = keyword;
  }
  return out;
}

export async function readLetters(dir: string): Promise<string[]> {
  return lettersOf(await readKeywords(dir));
}

/** Gives letters to those of `wanted` that have none, while letters are free; the letters afterwards. */
export async function addKeywords(dir: string, wanted: readonly string[]): Promise<string[]> {
  const before = await readKeywords(dir);
  let table = before;
  for (const keyword of wanted) {
    const next = withKeyword(table, keyword);
    if (next !== undefined) table = next.table;
  }
  if (table !== before) await writeKeywords(dir, table);
  return lettersOf(table);
}
