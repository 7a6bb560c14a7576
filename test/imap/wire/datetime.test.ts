/**
 * IMAP date-time and date: Dovecot's formatting ("03-Dec-2026 15:38:36 +0000"), parsing (case-insensitive
 * months, " d" days, zones), impossible dates refused, round trips.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, parseDate, parseDateTime } from '../../../src/imap/wire/datetime.js';

describe('date-time', () => {
  it('parses with the zone and formats as Dovecot does', () => {
    const v = parseDateTime('03-Dec-2026 01:02:03 +0130');
    expect(v).toEqual({ ms: Date.UTC(2026, 11, 2, 23, 32, 3), tzMinutes: 90 });
    expect(formatDateTime(v!)).toBe('03-Dec-2026 01:02:03 +0130');
    expect(parseDateTime(' 3-dec-2026 01:02:03 -0800')).toEqual({ ms: Date.UTC(2026, 11, 3, 9, 2, 3), tzMinutes: -480 });
    expect(formatDateTime({ ms: Date.UTC(2026, 0, 5, 0, 0, 0), tzMinutes: 0 })).toBe('05-Jan-2026 00:00:00 +0000');
    // Years under 100 stay themselves (Date.UTC would read 50 as 1950).
    const early = parseDateTime('05-Jan-0050 00:00:00 +0000');
    expect(early !== undefined && new Date(early.ms).getUTCFullYear()).toBe(50);
    expect(formatDateTime(early!)).toBe('05-Jan-0050 00:00:00 +0000');
  });

  it('refuses malformed and impossible values', () => {
    for (const bad of [
      '3-Dec-2026 01:02:03 +0000', // one-digit day without the space
      '03-Dec-26 01:02:03 +0000',
      '03-Foo-2026 01:02:03 +0000',
      '31-Feb-2026 01:02:03 +0000',
      '29-Feb-2026 01:02:03 +0000',
      '03-Dec-2026 24:02:03 +0000',
      '03-Dec-2026 01:60:03 +0000',
      '03-Dec-2026 01:02:03 +0060',
      '03-Dec-2026 01:02:03 0000',
      '03-Dec-2026 01:02:03',
      '03-Dec-2026  01:02:03 +0000',
      '',
    ]) {
      expect(parseDateTime(bad), bad).toBeUndefined();
    }
    expect(parseDateTime('29-Feb-2024 23:59:59 +0000')).toBeDefined();
  });

  it('round trips', () => {
    const arb = fc.record({
      ms: fc.integer({ min: Date.UTC(1, 0, 1), max: Date.UTC(9999, 11, 31) }).map((n) => n - (n % 1000)),
      tzMinutes: fc.integer({ min: -(99 * 60 + 59), max: 99 * 60 + 59 }),
    });
    fc.assert(
      fc.property(arb, (v) => {
        const text = formatDateTime(v);
        const back = parseDateTime(text);
        if (back === undefined) return; // the wall-clock year left 1..9999 through the zone
        expect(back).toEqual(v);
        expect(formatDateTime(back)).toBe(text);
      }),
      { numRuns: 3000, seed: 11 },
    );
  });
});

describe('date', () => {
  it('parses one or two digit days, any month case; refuses impossible days', () => {
    expect(parseDate('1-Feb-2026')).toEqual({ year: 2026, month: 2, day: 1 });
    expect(parseDate('01-feb-2026')).toEqual({ year: 2026, month: 2, day: 1 });
    expect(parseDate('30-Feb-2026')).toBeUndefined();
    expect(parseDate('1-Feb-26')).toBeUndefined();
    expect(parseDate('001-Feb-2026')).toBeUndefined();
    expect(formatDate({ year: 2026, month: 2, day: 1 })).toBe('1-Feb-2026');
  });

  it('round trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), (year, month, day) => {
        expect(parseDate(formatDate({ year, month, day }))).toEqual({ year, month, day });
      }),
      { numRuns: 1000, seed: 12 },
    );
  });
});
