import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BoundedMap } from '../../src/mail/bounded-map.js';

describe('BoundedMap', () => {
  it('drops the oldest key when a new one comes in full, and keeps the rest in order', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('c', 3);
    expect([...m.entries()]).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('replacing a key that is there drops nothing', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 10);
    expect([...m.entries()]).toEqual([
      ['a', 10],
      ['b', 2],
    ]);
  });

  it('never holds more than its limit, and always the last key set (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (limit, keys) => {
        const m = new BoundedMap<number, number>(limit);
        for (const k of keys) {
          m.set(k, k);
          expect(m.size).toBeLessThanOrEqual(limit);
          expect(m.get(k)).toBe(k);
        }
      }),
    );
  });
});
