/**
 * The hand-written name parsers a folder's first scan runs on every file name agree with the regular
 * expressions they replaced: S=/W= sizes (maildir-info.ts) and the `<secs>.M<usecs>` arrival key (index-sync.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maildirNameSizes } from '../../../src/store/maildir/maildir-info.js';
import { arrivalKey } from '../../../src/store/mailbox/index-sync.js';

function sizeByRegex(base: string, key: 'S' | 'W'): number | undefined {
  const m = new RegExp(`,${key}=(\\d{1,15})(?=,|$)`).exec(base);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

function arrivalByRegex(name: string): [number, number] {
  const m = /^(\d+)\.M(\d+)/.exec(name);
  return m === null ? [-1, 0] : [Number(m[1]), Number(m[2])];
}

/** Names built from the pieces that matter (digits, ',', 'S', 'W', '=', '.', 'M', ':'), so the edge cases come up often. */
const nameish = fc
  .array(fc.oneof(fc.constantFrom(',', 'S', 'W', '=', '.', 'M', ':', 'x', ',S=', ',W=', '.M'), fc.stringMatching(/^\d{1,18}$/)), { maxLength: 12 })
  .map((parts) => parts.join(''));

describe('name parsers', () => {
  it('S= and W= are read as the regex reads them', () => {
    fc.assert(
      fc.property(nameish, (name) => {
        const base = name.split(':')[0] as string;
        const { size, vsize } = maildirNameSizes(name);
        expect(size).toBe(sizeByRegex(base, 'S'));
        expect(vsize).toBe(sizeByRegex(base, 'W'));
      }),
      { numRuns: 3000 },
    );
    expect(maildirNameSizes('1.M2P3.h,S=12,W=14:2,S')).toEqual({ size: 12, vsize: 14 });
    expect(maildirNameSizes('1.M2P3.h,S=1234567890123456,W=14x,S=5')).toEqual({ size: 5, vsize: undefined });
    expect(maildirNameSizes('1.h,S=,S=7')).toEqual({ size: 7, vsize: undefined });
  });

  it('the arrival key is what /^(\\d+)\\.M(\\d+)/ takes', () => {
    fc.assert(
      fc.property(nameish, (name) => {
        expect(arrivalKey(name)).toEqual(arrivalByRegex(name));
      }),
      { numRuns: 3000 },
    );
    expect(arrivalKey('1704067311.M710082Q100000R0.bench,S=1:2,S')).toEqual([1704067311, 710082]);
    expect(arrivalKey('1704067311.Mx')).toEqual([-1, 0]);
    expect(arrivalKey('.M1')).toEqual([-1, 0]);
  });
});
