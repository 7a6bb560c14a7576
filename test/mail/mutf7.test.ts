/**
 * Modified UTF-7 (RFC 3501 §5.1.3): the RFC's examples, every non-canonical form refused, and round trips
 * (fast-check): decode(encode(s)) = s for all Unicode; encode writes printable ASCII only; and whenever
 * decode(x) succeeds, encode(decode(x)) = x (one spelling per name).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMutf7, encodeMutf7 } from '../../src/mail/mutf7.js';

describe('modified UTF-7', () => {
  it('encodes and decodes the RFC 3501 examples', () => {
    // RFC 3501 §5.1.3: "~peter/mail/台北/日本語"
    const name = '~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e';
    expect(encodeMutf7(name)).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    expect(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe(name);
    expect(encodeMutf7('&')).toBe('&-');
    expect(decodeMutf7('Tom &- Jerry')).toBe('Tom & Jerry');
    expect(encodeMutf7('Entwürfe')).toBe('Entw&APw-rfe');
    expect(encodeMutf7('')).toBe('');
    expect(decodeMutf7('INBOX')).toBe('INBOX');
    // A non-BMP character: a surrogate pair in one shift.
    expect(encodeMutf7('😀')).toBe('&2D3eAA-');
    expect(decodeMutf7('&2D3eAA-')).toBe('😀');
    expect(decodeMutf7('&AOk-&-')).toBe('é&');
  });

  it('refuses every non-canonical or broken form', () => {
    for (const bad of [
      '&AC4ALg-', // ".." shifted: printable ASCII inside a shift
      '&ACY-', // "&" shifted
      '&AGE-&AGI-', // two shifts in a row (one would do)
      '&-&', // unterminated
      '&AOk', // unterminated
      '&AO-', // too few bits for a UTF-16 unit
      '&AOl-', // non-zero padding bits
      '&AOkA-', // leftover sixth bits
      '&AOk=-', // base64 padding
      '&AO/-', // "/" instead of ","
      '&2D0-', // lone high surrogate
      '&3gA-', // lone low surrogate
      'caf\u00e9', // 8-bit, not encoded
      'a\tb', // control character
      'a\x7fb',
    ]) {
      expect(decodeMutf7(bad), bad).toBeUndefined();
    }
  });

  it('round trips all Unicode strings; the encoding is printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const e = encodeMutf7(s);
        expect(/^[\x20-\x7e]*$/.test(e)).toBe(true);
        expect(decodeMutf7(e)).toBe(s);
      }),
      { numRuns: 2000, seed: 20261203 },
    );
  });

  it('decode succeeds only on canonical input: encode(decode(x)) === x', () => {
    const alphabet = fc.constantFrom(...'&-AaBbCcOkUg0289+,/=. ~é'.split(''));
    const arb = fc.oneof(
      fc.array(alphabet, { maxLength: 20 }).map((a) => a.join('')),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeMutf7).chain((s) =>
        fc.tuple(fc.nat({ max: s.length }), fc.nat({ max: s.length }), alphabet).map(([at, cut, ch]) => [s.slice(0, at) + ch + s.slice(at), s.slice(0, cut)]),
      ).chain((pair) => fc.constantFrom(...pair)),
    );
    fc.assert(
      fc.property(arb, (x) => {
        const d = decodeMutf7(x);
        if (d !== undefined) expect(encodeMutf7(d)).toBe(x);
      }),
      { numRuns: 5000, seed: 20261203 },
    );
  });
});
