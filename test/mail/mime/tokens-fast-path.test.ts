/**
 * The header tokenizer and the IMAP quoting skip runs of characters with regular expressions (cheap
 * before the JIT has compiled them); these tests hold them to the loops they replaced, kept frozen in
 * reference/: every tokenizer function gives the same result, cursor position, text and comment from
 * every starting point, and every quoting function the same string (fast-check, fixed seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as now from '../../../src/mail/mime/rfc822-tokens.js';
import * as quoteNow from '../../../src/imap/fetch/quote.js';
import * as before from './reference/rfc822-tokens-v1.js';
import * as quoteBefore from './reference/quote-v1.js';

const SEED = 20261204;
type Tokenizer = (c: now.Rfc822Cursor, out: string[]) => -1 | 0 | 1;
const TOKENIZERS = ['parseAtom', 'parseDotAtom', 'parseMimeToken', 'parseQuotedString', 'parsePhrase', 'parseDomain', 'parseContentType'] as const;

/** Byte strings heavy in the characters the tokenizer treats specially, and some of every byte. */
const PIECES = [' ', '\t', '\r', '\n', '(', ')', '\\', '"', '.', '@', '<', '>', ',', ';', ':', '/', '=', '?', '[', ']', '\0', 'a', 'Z', '09', '-', '_', '~', '\x7f', '\x80', '\xe9', '\xff', 'text/plain', ' (c) '];
const textArb = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((a) => a.join('')),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((a) => String.fromCharCode(...a)),
);

function run(mod: Record<string, unknown>, name: string, s: string, i: number, comments: boolean): unknown {
  const c = mod['cursor'] as (s: string, w: boolean) => now.Rfc822Cursor;
  const cur = c(s, comments);
  cur.i = i;
  const out = ['x'];
  const ret = name === 'skipLwsp' || name === 'skipComment' ? (mod[name] as (c: now.Rfc822Cursor) => number)(cur) : (mod[name] as Tokenizer)(cur, out);
  return { ret, i: cur.i, out: out[0], comment: cur.lastComment };
}

describe('tokenizer fast paths = the loops before them', () => {
  it('every function, from every starting point, with and without comments kept', () => {
    fc.assert(
      fc.property(textArb, fc.boolean(), (s, comments) => {
        for (let i = 0; i <= s.length; i++) {
          for (const name of [...TOKENIZERS, 'skipLwsp']) {
            expect(run(now as unknown as Record<string, unknown>, name, s, i, comments)).toEqual(run(before as unknown as Record<string, unknown>, name, s, i, comments));
          }
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('isAtext is unchanged for every code', () => {
    for (let c = 0; c < 300; c++) expect(now.isAtext(c)).toBe(before.isAtext(c));
  });
});

describe('IMAP quoting fast paths = the loops before them', () => {
  it('imapString, imapNString, imapNStringNoLf, imapStringForHumans, quoted', () => {
    fc.assert(
      fc.property(textArb, (s) => {
        expect(quoteNow.imapString(s)).toBe(quoteBefore.imapString(s));
        expect(quoteNow.imapNString(s)).toBe(quoteBefore.imapNString(s));
        expect(quoteNow.imapNStringNoLf(s)).toBe(quoteBefore.imapNStringNoLf(s));
        expect(quoteNow.imapStringForHumans(s)).toBe(quoteBefore.imapStringForHumans(s));
        expect(quoteNow.quoted(s)).toBe(quoteBefore.quoted(s));
      }),
      { seed: SEED, numRuns: 5000 },
    );
    for (const s of ['', ' ', '  ', 'a', ' a', 'a ', 'a  b', 'a b', '\u0100', 'x\u2028']) expect(quoteNow.imapStringForHumans(s)).toBe(quoteBefore.imapStringForHumans(s));
  });
});
