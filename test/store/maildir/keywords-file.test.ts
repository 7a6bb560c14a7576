/** dovecot-keywords: the file Dovecot wrote, one-to-one mapping, lowest free index, round trips. */
import fc from 'fast-check';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatKeywords,
  isKeywordAtom,
  keywordIndexOf,
  parseKeywords,
  readKeywords,
  withKeyword,
  writeKeywords,
} from '../../../src/store/maildir/keywords-file.js';
import { makeTempDir, type TempDir } from '../../interop/harness/tmpdir.js';

describe('dovecot-keywords', () => {
  it('reads what Dovecot wrote', () => {
    const t = parseKeywords('0 $Forwarded\n1 foo\n2 bar\n');
    expect([...t]).toEqual([
      [0, '$Forwarded'],
      [1, 'foo'],
      [2, 'bar'],
    ]);
    expect(keywordIndexOf(t, 'FOO')).toBe(1);
    expect(formatKeywords(t)).toBe('0 $Forwarded\n1 foo\n2 bar\n');
  });

  it('skips bad lines, indexes past 25, and a keyword named twice', () => {
    const t = parseKeywords('garbage\n26 toohigh\n3 ok\n4 OK\n5 a(b\n 6 x\n3 again\n');
    expect([...t]).toEqual([[3, 'ok']]);
  });

  it('gives a new keyword the lowest free index, none past 26', () => {
    const t = parseKeywords('0 a\n2 c\n');
    expect(withKeyword(t, 'b')?.index).toBe(1);
    expect(withKeyword(t, 'C')?.index).toBe(2);
    const full = new Map(Array.from({ length: 26 }, (_, i) => [i, `k${i}`] as const));
    expect(withKeyword(full, 'new')).toBeUndefined();
    expect(() => withKeyword(t, 'bad word')).toThrow();
  });

  it('atoms', () => {
    expect(isKeywordAtom('$Junk')).toBe(true);
    for (const bad of ['', 'a b', 'a]', '\\Seen', 'a%', 'é', 'a"']) expect(isKeywordAtom(bad), bad).toBe(false);
  });

  it('format∘parse is the identity on valid tables', () => {
    const atom = fc.string({ unit: fc.constantFrom(...'abcXYZ$_-.0'.split('')), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 25 }), atom), { selector: ([i, n]) => `${i}` + '\0' + n.toLowerCase(), maxLength: 26 }), (pairs) => {
        const table = new Map<number, string>();
        const names = new Set<string>();
        for (const [i, n] of pairs) {
          if (table.has(i) || names.has(n.toLowerCase())) continue;
          table.set(i, n);
          names.add(n.toLowerCase());
        }
        expect(parseKeywords(formatKeywords(table))).toEqual(new Map([...table].sort((a, b) => a[0] - b[0])));
      }),
    );
  });

  describe('file', () => {
    let tmp: TempDir;
    beforeEach(async () => {
      tmp = await makeTempDir('keywords');
    });
    afterEach(async () => {
      await tmp.remove();
    });
    it('writes under its lock and reads back', async () => {
      expect((await readKeywords(tmp.path)).size).toBe(0);
      await writeKeywords(tmp.path, new Map([[0, '$Junk']]));
      expect(await readFile(join(tmp.path, 'dovecot-keywords'), 'utf8')).toBe('0 $Junk\n');
      expect((await stat(join(tmp.path, 'dovecot-keywords'))).mode & 0o777).toBe(0o600);
      expect([...(await readKeywords(tmp.path))]).toEqual([[0, '$Junk']]);
    });
  });
});
