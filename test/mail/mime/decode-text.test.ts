/** Text decoding for SEARCH: RFC 2047 words, raw UTF-8/latin1 headers, transfer encodings, charsets. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBodyText, decodeCharset, decodeHeaderValue, decodeQuotedPrintable, decodeTransfer } from '../../../src/mail/mime/decode-text.js';

const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('decodeHeaderValue', () => {
  it('decodes Q and B words, joins adjacent ones, leaves broken ones', () => {
    expect(decodeHeaderValue('=?UTF-8?B?SGVsbG8gV29ybGQ=?= =?UTF-8?Q?_adjacent_?= =?UTF-8?Q?words?= and =?broken?=')).toBe(
      'Hello World adjacent words and =?broken?=',
    );
    expect(decodeHeaderValue('=?ISO-8859-1?B?QW5kcuk=?=')).toBe('André');
  });

  it('reads a word in an unknown charset as latin1', () => {
    expect(decodeHeaderValue('=?x-unknown?q?caf=E9?=')).toBe('café');
  });

  it('reads raw 8-bit as UTF-8 when valid, else latin1', () => {
    expect(decodeHeaderValue(bytes('日本語 — café'))).toBe('日本語 — café');
    expect(decodeHeaderValue('Gr\xfc\xdfe')).toBe('Grüße');
  });
});

describe('body decoding', () => {
  it('undoes quoted-printable, soft breaks included, and keeps bad escapes', () => {
    expect(decodeQuotedPrintable(Buffer.from('Caf=E9 =\nmenu=3D =ZZ=')).toString('latin1')).toBe('Café menu= =ZZ');
    expect(decodeQuotedPrintable(Buffer.from('a=  \r\nb')).toString()).toBe('ab');
  });

  it('undoes base64 ignoring line breaks and junk', () => {
    expect(decodeTransfer(Buffer.from('SGVs\nbG8=\n'), 'BASE64').toString()).toBe('Hello');
    expect(decodeTransfer(Buffer.from('as is'), 'x-uuencode').toString()).toBe('as is');
  });

  it('decodes base64 as dropping every non-alphabet character first does, clean or not', () => {
    // plain base64 goes to Buffer's decoder as it is; anything else is cleaned first
    const PIECES = ['QUJD', 'ZA==', 'ZW8=', 'Zg', '\n', '\r\n', '=', '==', '-', '_', ' ', '.', '!', 'é', '+/', 'A'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 16 }), (pieces) => {
        const raw = Buffer.from(pieces.join(''), 'latin1');
        const cleaned = Buffer.from(raw.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
        expect(decodeTransfer(raw, 'base64').equals(cleaned)).toBe(true);
      }),
      { seed: 20261203, numRuns: 5000 },
    );
  });

  it('converts charsets; unknown ones are latin1', () => {
    expect(decodeCharset(Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]), 'koi8-r')).toBe('Привет');
    expect(decodeCharset(Buffer.from([0x63, 0xe9]), 'x-nonsense')).toBe('cé');
    expect(decodeCharset(Buffer.from('é'), null)).toBe('é');
  });

  it('decodes a part by its own fields', () => {
    const part = { encoding: 'base64', params: [{ name: 'Charset', value: 'utf-8' }] };
    expect(decodeBodyText(Buffer.from('SGVsbG8sIHfDtnJsZCEK'), part)).toBe('Hello, wörld!\n');
  });
});
