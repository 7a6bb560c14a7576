/** LF → CRLF conversion with skip/length, whole and streamed (any chunking gives the same bytes). */
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { CrlfStream, crlfSize, toCrlf } from '../../../src/mail/mime/line-ends.js';

/** The reference: every LF not after a CR gets one; then the cut. */
function reference(input: Buffer, skip = 0, length = Infinity, nulTo80 = false): Buffer {
  const out: number[] = [];
  input.forEach((c, i) => {
    if (c === 10 && (i === 0 || input[i - 1] !== 13)) out.push(13);
    out.push(nulTo80 && c === 0 ? 0x80 : c);
  });
  return Buffer.from(out.slice(skip, skip + length));
}

describe('line ends', () => {
  it('converts bare LFs only', () => {
    expect(toCrlf(Buffer.from('a\nb\r\nc\rd\n')).toString()).toBe('a\r\nb\r\nc\rd\r\n');
    expect(crlfSize(Buffer.from('a\nb\r\nc\rd\n'))).toBe(11);
    expect(crlfSize(Buffer.from('\n'))).toBe(2);
  });

  it('cuts at CRLF octets, also between the CR and LF it added', () => {
    const b = Buffer.from('ab\ncd\n');
    expect(toCrlf(b, 0, b.length, { skip: 3 }).toString()).toBe('\ncd\r\n');
    expect(toCrlf(b, 0, b.length, { skip: 1, length: 2 }).toString()).toBe('b\r');
    expect(toCrlf(b, 0, b.length, { skip: 100 }).length).toBe(0);
  });

  it('a range that starts right after a CR keeps its LF bare', () => {
    const b = Buffer.from('x\r\ny');
    expect(toCrlf(b, 2).toString()).toBe('\ny');
  });

  it('whole and streamed conversions agree with the reference for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(10, 13, 0, 97), { maxLength: 60 }),
        fc.array(fc.nat({ max: 8 }), { maxLength: 20 }),
        fc.nat({ max: 70 }),
        fc.option(fc.nat({ max: 70 }), { nil: undefined }),
        async (bytes, cuts, skip, length) => {
          const input = Buffer.from(bytes);
          const want = reference(input, skip, length ?? Infinity, true);
          const opts = { skip, nulTo80: true, ...(length !== undefined ? { length } : {}) };
          expect(toCrlf(input, 0, input.length, opts)).toEqual(want);
          const chunks: Buffer[] = [];
          let at = 0;
          for (const c of cuts) {
            chunks.push(input.subarray(at, Math.min(input.length, at + c)));
            at = Math.min(input.length, at + c);
          }
          chunks.push(input.subarray(at));
          const streamed = await buffer(Readable.from(chunks).pipe(new CrlfStream(opts)));
          expect(streamed).toEqual(want);
        },
      ),
      { seed: 11, numRuns: 500 },
    );
  });
});
