/**
 * wire/byte-lines.ts: decimal numbers and pieces written into byte chunks give the bytes the same text
 * would, whatever the chunk size, and what take() handed out is never written over.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteChunks, DECIMAL_MAX, putBytes, putDecimal } from '../../../src/imap/wire/byte-lines.js';

describe('putDecimal', () => {
  it('writes what String() does, at the offset given, and returns the offset after it', () => {
    const samples = [0, 1, 9, 10, 99, 100, 12345, 2 ** 30 - 1, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    for (const n of samples) {
      const buf = Buffer.alloc(DECIMAL_MAX + 4, '#');
      const end = putDecimal(buf, 2, n);
      expect(buf.toString('latin1'), String(n)).toBe(`##${n}${'#'.repeat(buf.length - 2 - String(n).length)}`);
      expect(end).toBe(2 + String(n).length);
    }
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        const buf = Buffer.alloc(DECIMAL_MAX);
        return buf.toString('latin1', 0, putDecimal(buf, 0, n)) === String(n);
      }),
    );
  });
});

describe('putDecimal, numbers IMAP cannot send', () => {
  it('throws on a negative, fractional, NaN or unsafe number instead of writing garbage', () => {
    for (const n of [-1, -(2 ** 40), 1.5, 2 ** 40 + 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => putDecimal(Buffer.alloc(32), 0, n), String(n)).toThrow(RangeError);
    }
  });
});

describe('ByteChunks, first chunk', () => {
  it('makes the first chunk the size asked and the later ones the usual size', () => {
    const c = new ByteChunks(1000, 40);
    expect(c.room(10).length).toBe(40);
    c.at = 40;
    expect(c.room(10).length).toBe(1000);
  });
});

describe('putBytes', () => {
  it('copies short and long pieces', () => {
    for (const piece of ['', 'a', ' FETCH (', 'x'.repeat(16), 'y'.repeat(17), 'z'.repeat(300)]) {
      const buf = Buffer.alloc(400, '#');
      expect(putBytes(buf, 3, Buffer.from(piece))).toBe(3 + piece.length);
      expect(buf.toString('latin1', 0, 3 + piece.length + 1)).toBe(`###${piece}#`);
    }
  });
});

describe('ByteChunks', () => {
  it('gives the same bytes over any chunk size, takes included, never writing over what was taken', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.oneof(fc.maxSafeNat(), fc.string({ maxLength: 40 }), fc.constant('take')), { maxLength: 60 }), (chunk, steps) => {
        const out = new ByteChunks(chunk);
        const taken: Buffer[] = [];
        const snapshots: string[] = [];
        let expected = '';
        for (const step of steps) {
          if (step === 'take') {
            for (const b of out.take()) {
              taken.push(b);
              snapshots.push(b.toString('latin1'));
            }
            continue;
          }
          const piece = typeof step === 'number' ? undefined : Buffer.from(step, 'latin1');
          const need = piece === undefined ? DECIMAL_MAX : piece.length;
          const buf = out.room(need);
          out.at = piece === undefined ? putDecimal(buf, out.at, step as number) : putBytes(buf, out.at, piece);
          expected += piece === undefined ? String(step) : step;
        }
        taken.push(...out.take());
        snapshots.push(...taken.slice(snapshots.length).map((b) => b.toString('latin1')));
        // each taken chunk still holds what it held when taken
        expect(taken.map((b) => b.toString('latin1'))).toEqual(snapshots);
        expect(Buffer.concat(taken).toString('latin1')).toBe(expected);
        expect(out.take()).toEqual([]);
      }),
    );
  });
});
