/** The CRLF → LF codec gives the same bytes however the input is cut into chunks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countLf, createCrlfToLf } from '../../../src/store/maildir/crlf-to-lf.js';

function convert(chunks: readonly Buffer[]): Buffer {
  const c = createCrlfToLf();
  return Buffer.concat([...chunks.map((x) => c.push(x)), c.end()]);
}

/** The reference: every CRLF becomes LF, anything else stays. */
const reference = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');

describe('CRLF to LF', () => {
  it('converts line ends and keeps bare CR and bare LF', () => {
    expect(convert([Buffer.from('a\r\nb\rc\nd\r\n')]).toString()).toBe('a\nb\rc\nd\n');
    expect(convert([Buffer.from('a\r'), Buffer.from('\nb\r')]).toString()).toBe('a\nb\r');
    expect(convert([Buffer.from('a\r'), Buffer.alloc(0), Buffer.from('x')]).toString()).toBe('a\rx');
    expect(countLf(Buffer.from('a\nb\n\n'))).toBe(3);
  });

  it('equals the reference for any bytes cut anywhere (property)', () => {
    const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.map((x) => [0x0d, 0x0a, 0x41][x % 3] as number)));
    fc.assert(
      fc.property(bytes, fc.array(fc.nat(300), { maxLength: 10 }), (input, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of points) {
          chunks.push(input.subarray(from, p));
          from = p;
        }
        chunks.push(input.subarray(from));
        return convert(chunks).equals(reference(input));
      }),
      { numRuns: 20_000 },
    );
  });
});
