/**
 * Sequence-set resolution merges ranges before expanding: a set naming the same numbers thousands of times
 * ("1:*" × 2000 on a 5000-message mailbox) yields each number once with one expansion, and for random sets
 * the result equals the naive expand-everything-then-dedupe answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseSequenceSet,
  resolveSequenceNumbers,
  resolveUids,
  setContains,
  setMatcher,
  type SequenceSet,
} from '../../../src/imap/wire/sequence-set.js';

function naiveSeq(set: SequenceSet, count: number, mode: 'strict' | 'lenient'): number[] | undefined {
  const out = new Set<number>();
  for (const r of set) {
    if (count === 0 && (r.from === '*' || r.to === '*')) {
      if (mode === 'strict') return undefined;
      continue;
    }
    const a = r.from === '*' ? count : r.from;
    const b = r.to === '*' ? count : r.to;
    if (Math.max(a, b) > count && mode === 'strict') return undefined;
    for (let n = Math.min(a, b); n <= Math.min(Math.max(a, b), count); n++) out.add(n);
  }
  return [...out].sort((x, y) => x - y);
}

function naiveUids(set: SequenceSet, uids: readonly number[]): number[] {
  if (uids.length === 0) return [];
  const max = uids[uids.length - 1]!;
  return uids.filter((u) =>
    set.some((r) => {
      const a = r.from === '*' ? max : r.from;
      const b = r.to === '*' ? max : r.to;
      return u >= Math.min(a, b) && u <= Math.max(a, b);
    }),
  );
}

const num = fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant('*' as const));
const setArb = fc.array(fc.record({ from: num, to: num }), { minLength: 1, maxLength: 12 });
const uidsArb = fc.uniqueArray(fc.integer({ min: 1, max: 80 }), { maxLength: 40 }).map((a) => a.sort((x, y) => x - y));

describe('sequence-set resolution with many overlapping ranges', () => {
  it('"1:*" 2000 times on a 5000-message mailbox resolves to each number once', () => {
    const set = parseSequenceSet(Array(2000).fill('1:*').join(','));
    const seqs = resolveSequenceNumbers(set, 5000, 'strict');
    expect(seqs?.length).toBe(5000);
    expect(seqs?.[0]).toBe(1);
    expect(seqs?.[4999]).toBe(5000);
    const uids = Array.from({ length: 5000 }, (_, i) => i * 3 + 7);
    const got = resolveUids(set, uids);
    expect(got).toEqual(uids);
    expect(setContains(set, 2500, 5000)).toBe(true);
    expect(setContains(set, 5001, 5000)).toBe(false);
  });

  it('sequence numbers equal the naive expansion, strict and lenient', () => {
    fc.assert(
      fc.property(setArb, fc.integer({ min: 0, max: 70 }), fc.constantFrom('strict' as const, 'lenient' as const), (set, count, mode) => {
        expect(resolveSequenceNumbers(set, count, mode)).toEqual(naiveSeq(set, count, mode));
      }),
    );
  });

  it('UIDs equal the naive filter', () => {
    fc.assert(
      fc.property(setArb, uidsArb, (set, uids) => {
        expect(resolveUids(set, uids)).toEqual(naiveUids(set, uids));
      }),
    );
  });

  it('the SEARCH matcher agrees with the naive test for every number', () => {
    fc.assert(
      fc.property(setArb, fc.integer({ min: 0, max: 70 }), (set, star) => {
        const test = setMatcher(set, star);
        for (let n = 1; n <= 75; n++) {
          const naive = set.some((r) => {
            const a = r.from === '*' ? star : r.from;
            const b = r.to === '*' ? star : r.to;
            return n >= Math.min(a, b) && n <= Math.max(a, b);
          });
          expect(test(n)).toBe(naive);
        }
      }),
    );
  });
});
