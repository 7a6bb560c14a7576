/**
 * RFC 3501 §9 character classes, checked byte by byte against the grammar's own definitions, and the
 * response code list.
 */
import { describe, expect, it } from 'vitest';
import {
  allBytes,
  isAstringChar,
  isAtom,
  isAtomChar,
  isAtomSpecial,
  isChar,
  isCtl,
  isDigit,
  isListChar,
  isListWildcard,
  isQuotedChar,
  isQuotedSpecial,
  isRespSpecial,
  isTag,
  isTagChar,
  isTextChar,
} from '../../../src/imap/wire/grammar.js';
import { isResponseCodeName, RESPONSE_CODES } from '../../../src/imap/wire/response-codes.js';

const ALL = Array.from({ length: 256 }, (_, i) => i);
const chars = (test: (b: number) => boolean): string => String.fromCharCode(...ALL.filter(test));

describe('character classes', () => {
  it('atom-specials and ATOM-CHAR', () => {
    expect(chars((b) => isAtomSpecial(b) && !isCtl(b))).toBe(' "%()*\\]{');
    expect(ALL.filter(isAtomChar)).toHaveLength(0x7f - 0x20 - 9);
    expect(isAtomChar(0x5b)).toBe(true); // "[" is an ATOM-CHAR
    expect(isAtomChar(0x80)).toBe(false);
    expect(isAtomChar(0x00)).toBe(false);
  });

  it('ASTRING-CHAR, tag, list-char', () => {
    expect(chars((b) => isAstringChar(b) && !isAtomChar(b))).toBe(']');
    expect(chars((b) => isAstringChar(b) && !isTagChar(b))).toBe('+');
    expect(chars((b) => isListChar(b) && !isAtomChar(b))).toBe('%*]');
  });

  it('TEXT-CHAR and QUOTED-CHAR', () => {
    expect(chars((b) => isChar(b) && !isTextChar(b))).toBe('\n\r');
    expect(chars((b) => isTextChar(b) && !isQuotedChar(b))).toBe('"\\');
    expect(isTextChar(0)).toBe(false);
  });

  it('small predicates', () => {
    expect(chars(isDigit)).toBe('0123456789');
    expect(chars(isListWildcard)).toBe('%*');
    expect(chars(isQuotedSpecial)).toBe('"\\');
    expect(chars(isRespSpecial)).toBe(']');
    expect(isAtom('FETCH')).toBe(true);
    expect(isAtom('')).toBe(false);
    expect(isAtom('a b')).toBe(false);
    expect(isTag('a1')).toBe(true);
    expect(isTag('a+1')).toBe(false);
    expect(isTag('*')).toBe(false);
    expect(allBytes('123', isDigit)).toBe(true);
  });
});

describe('response codes', () => {
  it('has the codes of every RFC named', () => {
    for (const code of ['ALERT', 'TRYCREATE', 'APPENDUID', 'COPYUID', 'UIDNOTSTICKY', 'NONEXISTENT', 'OVERQUOTA', 'HIGHESTMODSEQ', 'MODIFIED', 'NOMODSEQ', 'TOOBIG', 'COMPRESSIONACTIVE']) {
      expect(isResponseCodeName(code), code).toBe(true);
    }
    expect(isResponseCodeName('NOPE')).toBe(false);
    expect(RESPONSE_CODES.size).toBe(37); // 11 + 3 + 17 + 4 + TOOBIG + COMPRESSIONACTIVE (OVERQUOTA counted once)
  });
});
