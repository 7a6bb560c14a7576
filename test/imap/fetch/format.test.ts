/**
 * BODYSTRUCTURE, BODY and ENVELOPE strings: Dovecot's quoting (quoted, or a literal for CR/LF/8-bit
 * or more than four quoted-specials), defaults, extension data. The differential test checks these
 * against Dovecot on the whole corpus; these pin the rules on small inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyString, bodystructureString, formatBodystructure } from '../../../src/imap/fetch/bodystructure.js';
import { envelopeFields, formatEnvelope } from '../../../src/imap/fetch/envelope.js';
import { imapNStringNoLf, imapString, imapStringForHumans } from '../../../src/imap/fetch/quote.js';
import { parseStructure } from '../../../src/mail/mime/parse-structure.js';

describe('IMAP strings as Dovecot writes them', () => {
  it('quotes, escapes up to four specials, else a literal', () => {
    expect(imapString('plain')).toBe('"plain"');
    expect(imapString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(imapString('""""')).toBe('"\\"\\"\\"\\""');
    expect(imapString('"""""')).toBe('{5}\r\n"""""');
    expect(imapString('caf\xe9')).toBe('{4}\r\ncaf\xe9');
    expect(imapString('a\nb')).toBe('{3}\r\na\nb');
    expect(imapString('cut\0here')).toBe('"cut"');
  });

  it('quotes any bytes as the rule says (a one-pass implementation against the rule written plainly)', () => {
    const rule = (value: string): string => {
      const s = value.includes('\0') ? value.slice(0, value.indexOf('\0')) : value;
      const specials = [...s].filter((ch) => ch === '"' || ch === '\\').length;
      if (specials > 4 || /[\r\n\x80-\xff]/.test(s)) return `{${s.length}}\r\n${s}`;
      return `"${s.replace(/["\\]/g, '\\$&')}"`;
    };
    const bytes = fc.array(fc.constantFrom(0x00, 0x0a, 0x0d, 0x20, 0x22, 0x5c, 0x41, 0x7a, 0x80, 0xe9, 0xff), { maxLength: 12 });
    fc.assert(
      fc.property(bytes, (b) => {
        const value = Buffer.from(b).toString('latin1');
        expect(imapString(value)).toBe(rule(value));
      }),
      { seed: 20261203, numRuns: 2000 },
    );
  });

  it('removes line breaks, keeping a space between lines', () => {
    expect(imapNStringNoLf('a\n b')).toBe('"a b"');
    expect(imapNStringNoLf('a\nb')).toBe('"a b"');
    expect(imapNStringNoLf(null)).toBe('NIL');
  });

  it('cleans strings for humans', () => {
    expect(imapStringForHumans('a  b\t\nc ')).toBe('{5}\r\na b c');
    expect(imapStringForHumans('simple')).toBe('"simple"');
    expect(imapStringForHumans('   ')).toBe('""');
    expect(imapStringForHumans('say "hi"')).toBe('{8}\r\nsay "hi"');
  });
});

describe('BODYSTRUCTURE and BODY', () => {
  it('defaults text/plain; charset=us-ascii and 7bit', () => {
    const root = parseStructure(Buffer.from('Subject: x\n\nhello\nworld\n'));
    expect(bodystructureString(root)).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)');
    expect(bodyString(root)).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)');
  });

  it('writes multiparts, nested messages and extension data', () => {
    const msg = Buffer.from(
      'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: TEXT/HTML\nContent-Language: en, de\n' +
        'Content-Location: http://x/\nContent-MD5: abc\nContent-Disposition: inline; filename=a.html\n\n<p>\n--b\n' +
        'Content-Type: message/rfc822\n\nSubject: inner\nFrom: a@b\n\nhi\n--b--\n',
    );
    expect(formatBodystructure(parseStructure(msg)).toString('latin1')).toBe(
      '(("TEXT" "HTML" ("charset" "us-ascii") NIL NIL "7bit" 3 0 "abc" ("inline" ("filename" "a.html")) ("en" "de") "http://x/")' +
        '("message" "rfc822" NIL NIL NIL "7bit" 31 (NIL "inner" ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL) ' +
        '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 2 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)',
    );
  });

  it('writes a multipart without parts as one empty text/plain', () => {
    const root = parseStructure(Buffer.from('Content-Type: multipart/mixed; boundary=z\n\nnothing\n'));
    expect(bodyString(root)).toBe('(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")');
  });
});

describe('ENVELOPE', () => {
  it('defaults Sender and Reply-To to From, writes groups and raw 8-bit', () => {
    const msg = Buffer.from('From: J\xf6rg <j@x.de>\nTo: team: a@b, c@d;\nSubject: =?utf-8?q?raw?=\nMessage-ID: <m@x>\n\n', 'latin1');
    expect(envelopeFields(parseStructure(msg).envelope)).toBe(
      'NIL "=?utf-8?q?raw?=" (({4}\r\nJ\xf6rg NIL "j" "x.de")) (({4}\r\nJ\xf6rg NIL "j" "x.de")) (({4}\r\nJ\xf6rg NIL "j" "x.de")) ' +
        '((NIL NIL "team" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)) NIL NIL NIL "<m@x>"',
    );
  });

  it('is all NIL for a message without those fields', () => {
    expect(formatEnvelope(parseStructure(Buffer.from('X: y\n\n')).envelope).toString()).toBe('(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  });
});
