/** Header values as rules see them: unfolded, RFC 2047 encoded words decoded. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, headerText, unfold } from '../../../src/filters/rules/header-text.js';

describe('header text', () => {
  it('unfolds folded lines', () => {
    expect(unfold('first part\r\n second\r\n\tthird')).toBe('first part second\tthird');
    expect(unfold('no fold\r\nnot a fold')).toBe('no fold\r\nnot a fold');
  });

  it('decodes B and Q encoded words in any charset TextDecoder knows, joining adjacent words', () => {
    expect(decodeEncodedWords('=?UTF-8?B?Q2hlYXAgdmlhZ3Jh?=')).toBe('Cheap viagra');
    expect(decodeEncodedWords('=?iso-8859-1?q?caf=E9_cr=E8me?= now')).toBe('café crème now');
    expect(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?= c')).toBe('ab c');
    expect(decodeEncodedWords('=?UTF-8*en?Q?hi?=')).toBe('hi');
    expect(decodeEncodedWords('=?x-unknown?Q?kept?=')).toBe('=?x-unknown?Q?kept?=');
    expect(headerText('=?UTF-8?Q?Win_a?=\r\n =?UTF-8?Q?_prize?=')).toBe('Win a prize');
  });

  it('any text survives encoding as B or Q words and decoding', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.boolean(), (text, base64) => {
        const bytes = Buffer.from(text, 'utf8');
        const word = base64
          ? `=?UTF-8?B?${bytes.toString('base64')}?=`
          : `=?UTF-8?Q?${[...bytes].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}?=`;
        expect(decodeEncodedWords(word)).toBe(text);
      }),
    );
  });

  it('text without encoded words or folds is unchanged', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !s.includes('=?') && !s.includes('\n')), (s) => {
        expect(headerText(s)).toBe(s);
      }),
    );
  });
});
