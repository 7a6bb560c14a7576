// The IMAP response splitter of the interop harness (harness/imap-units.ts): however the output is cut
// into chunks (inside a line, a `{n}` or a literal), the same units come out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerTag, ImapUnitSplitter } from './harness/imap-units.js';

const UNITS = [
  '* OK [READ-WRITE] Select completed.\r\n',
  '* 1 FETCH (BODY[] {12}\r\nab\r\nt9 OK x\r\n)\r\n',
  '* 1 FETCH (BODY[1] {0}\r\n BODY[2] {3}\r\n\r\n\n)\r\n',
  '* 1 FETCH (BODY[HEADER] "a\nb")\r\n',
  't3 OK Fetch completed.\r\n',
  '* 1 FETCH (BODY[TEXT] {5}\r\n{99}\r\n)\r\n',
  't4 NO [NONEXISTENT] no\r\n',
];

describe('ImapUnitSplitter', () => {
  it('gives the same units for any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...UNITS), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (units, cuts) => {
        const all = Buffer.from(units.join(''), 'latin1');
        const at = [...new Set(cuts.map((c) => (all.length === 0 ? 0 : c % all.length)))].sort((a, b) => a - b);
        const splitter = new ImapUnitSplitter();
        let prev = 0;
        for (const c of [...at, all.length]) {
          splitter.push(all.subarray(prev, c));
          prev = c;
        }
        expect(splitter.units.map((u) => u.toString('latin1'))).toEqual(units);
        expect(splitter.rest().length).toBe(0);
      }),
    );
  });

  it('counts a literal in octets and keeps a cut-off answer as the rest', () => {
    const splitter = new ImapUnitSplitter();
    const body = Buffer.from('é\r\n', 'utf8'); // 4 octets, 3 characters
    splitter.push(Buffer.concat([Buffer.from(`* 1 FETCH (BODY[] {${body.length}}\r\n`), body, Buffer.from(')\r\nt1 OK')]));
    expect(splitter.units).toHaveLength(1);
    expect(splitter.rest().toString()).toBe('t1 OK');
  });

  it('tells tagged answers from untagged ones', () => {
    expect(answerTag(Buffer.from('t12 OK Fetch completed.\r\n'))).toBe('t12');
    expect(answerTag(Buffer.from('t1 BAD Error\r\n'))).toBe('t1');
    expect(answerTag(Buffer.from('* OK still here\r\n'))).toBeUndefined();
    expect(answerTag(Buffer.from('* 1 FETCH (BODY[] {2}\r\nOK)\r\n'))).toBeUndefined();
    expect(answerTag(Buffer.from('+ OK\r\n'))).toBeUndefined();
  });
});
