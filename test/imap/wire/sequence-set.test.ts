/**
 * Sequence sets: parsing (bounds, `*`, ranges either way), compressed formatting, and resolution against a
 * message count and a UID list with Dovecot's rules (FETCH/STORE/COPY: BAD past the end and for `*` in an
 * empty mailbox; SEARCH: nothing; UIDs: only existing ones, `n:*` includes the largest).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/imap/wire/frame.js';
import {
  compressNumbers,
  formatSequenceSet,
  parseSequenceSet,
  resolveSequenceNumbers,
  resolveUids,
  setContains,
  usesStar,
} from '../../../src/imap/wire/sequence-set.js';

describe('parseSequenceSet', () => {
  it('reads numbers, ranges and *', () => {
    expect(parseSequenceSet('1')).toEqual([{ from: 1, to: 1 }]);
    expect(parseSequenceSet('1:3,5,*,7:*,9:2')).toEqual([
      { from: 1, to: 3 },
      { from: 5, to: 5 },
      { from: '*', to: '*' },
      { from: 7, to: '*' },
      { from: 9, to: 2 },
    ]);
    expect(parseSequenceSet('4294967295')).toEqual([{ from: 4294967295, to: 4294967295 }]);
  });

  it('refuses 0, numbers over 2^32-1 and bad syntax, with the column', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['1:0', 2],
      ['4294967296', 0],
      ['99999999999999999999', 0],
      ['', 0],
      ['1,', 2],
      [',1', 0],
      ['1::2', 2],
      ['1:2:3', 3],
      ['$', 0],
      ['-1', 0],
      ['01', 0],
    ];
    for (const [text, at] of cases) {
      try {
        parseSequenceSet(text, 10);
        expect.fail(`accepted ${text}`);
      } catch (e) {
        expect(e, text).toBeInstanceOf(ParseError);
        expect((e as ParseError).position, text).toBe(10 + at);
      }
    }
  });

  it('round trips through formatSequenceSet', () => {
    const num = fc.oneof(fc.integer({ min: 1, max: 4294967295 }), fc.constant('*' as const));
    const set = fc.array(fc.record({ from: num, to: num }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(set, (s) => {
        expect(parseSequenceSet(formatSequenceSet(s))).toEqual(s);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe('compressNumbers', () => {
  it('writes the shortest ranges', () => {
    expect(compressNumbers([])).toBe('');
    expect(compressNumbers([5, 1, 2, 3, 3, 9, 8, 7])).toBe('1:3,5,7:9');
    expect(compressNumbers([4294967295])).toBe('4294967295');
  });

  it('resolves back to the same numbers', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 60 }), (ns) => {
        const sorted = [...ns].sort((a, b) => a - b);
        expect(resolveUids(parseSequenceSet(compressNumbers(ns)), sorted)).toEqual(sorted);
      }),
      { numRuns: 1000, seed: 8 },
    );
  });
});

describe('resolution', () => {
  it('message numbers, strict (FETCH/STORE/COPY) as Dovecot: BAD past the end or * when empty', () => {
    expect(resolveSequenceNumbers(parseSequenceSet('1:*'), 5, 'strict')).toEqual([1, 2, 3, 4, 5]);
    expect(resolveSequenceNumbers(parseSequenceSet('2:1,1,2'), 5, 'strict')).toEqual([1, 2]);
    expect(resolveSequenceNumbers(parseSequenceSet('*:3'), 5, 'strict')).toEqual([3, 4, 5]);
    expect(resolveSequenceNumbers(parseSequenceSet('6'), 5, 'strict')).toBeUndefined();
    expect(resolveSequenceNumbers(parseSequenceSet('4:9'), 5, 'strict')).toBeUndefined();
    expect(resolveSequenceNumbers(parseSequenceSet('*'), 0, 'strict')).toBeUndefined();
    expect(resolveSequenceNumbers(parseSequenceSet('1:*'), 0, 'strict')).toBeUndefined();
    expect(resolveSequenceNumbers(parseSequenceSet('1'), 0, 'strict')).toBeUndefined();
  });

  it('message numbers, lenient (SEARCH) as Dovecot: nothing past the end', () => {
    expect(resolveSequenceNumbers(parseSequenceSet('9'), 5, 'lenient')).toEqual([]);
    expect(resolveSequenceNumbers(parseSequenceSet('4:9'), 5, 'lenient')).toEqual([4, 5]);
    expect(resolveSequenceNumbers(parseSequenceSet('1:*'), 0, 'lenient')).toEqual([]);
    expect(resolveSequenceNumbers(parseSequenceSet('1:4294967295'), 3, 'lenient')).toEqual([1, 2, 3]);
  });

  it('UIDs: only existing ones; * is the largest; n:* past it still includes it', () => {
    const uids = [3, 5, 10, 11, 40];
    expect(resolveUids(parseSequenceSet('1:*'), uids)).toEqual(uids);
    expect(resolveUids(parseSequenceSet('50:*'), uids)).toEqual([40]);
    expect(resolveUids(parseSequenceSet('*'), uids)).toEqual([40]);
    expect(resolveUids(parseSequenceSet('4:10,10:4,1'), uids)).toEqual([5, 10]);
    expect(resolveUids(parseSequenceSet('1:4294967295'), uids)).toEqual(uids);
    expect(resolveUids(parseSequenceSet('*'), [])).toEqual([]);
    expect(resolveUids(parseSequenceSet('1:*'), [])).toEqual([]);
  });

  it('agrees with a naive model (sorted, unique, members only)', () => {
    const num = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant('*' as const));
    const set = fc.array(fc.record({ from: num, to: num }), { minLength: 1, maxLength: 6 });
    const uidList = fc.uniqueArray(fc.integer({ min: 1, max: 50 }), { maxLength: 30 }).map((a) => a.sort((x, y) => x - y));
    fc.assert(
      fc.property(set, uidList, fc.nat({ max: 40 }), (s, uids, count) => {
        const max = uids.at(-1) ?? 0;
        const inSet = (n: number, star: number): boolean => setContains(s, n, star);
        expect(resolveUids(s, uids)).toEqual(uids.length === 0 ? [] : uids.filter((u) => inSet(u, max)));
        const all = Array.from({ length: count }, (_, i) => i + 1);
        const lenient = resolveSequenceNumbers(s, count, 'lenient');
        const expected = all.filter((n) => inSet(n, count));
        expect(lenient).toEqual(count === 0 ? [] : expected);
        const strict = resolveSequenceNumbers(s, count, 'strict');
        const outside = s.some((r) => [r.from, r.to].some((n) => (n === '*' ? count === 0 : n > count)));
        expect(strict).toEqual(outside ? undefined : expected);
        expect(usesStar(s)).toBe(s.some((r) => r.from === '*' || r.to === '*'));
      }),
      { numRuns: 3000, seed: 9 },
    );
  });
});
