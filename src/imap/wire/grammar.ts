/**
 * RFC 3501 §9 character classes as byte predicates (lookup tables: the reader and cursor test every byte of
 * every command with them). Bytes, not characters: 8-bit is never an ATOM-CHAR.
 */

function table(test: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = test(b) ? 1 : 0;
  return t;
}

/** CTL: %x00-1F / %x7F. */
export const isCtl = (b: number): boolean => b < 0x20 || b === 0x7f;
/** CHAR: %x01-7F. */
export const isChar = (b: number): boolean => b >= 0x01 && b <= 0x7f;
export const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
/** list-wildcards: "%" / "*". */
export const isListWildcard = (b: number): boolean => b === 0x25 || b === 0x2a;
/** quoted-specials: DQUOTE / "\". */
export const isQuotedSpecial = (b: number): boolean => b === 0x22 || b === 0x5c;
/** resp-specials: "]". */
export const isRespSpecial = (b: number): boolean => b === 0x5d;

/** atom-specials: "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials. */
export const isAtomSpecial = (b: number): boolean =>
  b === 0x28 || b === 0x29 || b === 0x7b || b === 0x20 || isCtl(b) || isListWildcard(b) || isQuotedSpecial(b) || isRespSpecial(b);

const ATOM_CHAR = table((b) => isChar(b) && !isAtomSpecial(b));
const ASTRING_CHAR = table((b) => ATOM_CHAR[b] === 1 || isRespSpecial(b));
const TAG_CHAR = table((b) => ASTRING_CHAR[b] === 1 && b !== 0x2b);
const LIST_CHAR = table((b) => ATOM_CHAR[b] === 1 || isListWildcard(b) || isRespSpecial(b));
const TEXT_CHAR = table((b) => isChar(b) && b !== 0x0d && b !== 0x0a);
const QUOTED_CHAR = table((b) => TEXT_CHAR[b] === 1 && !isQuotedSpecial(b));

/** ATOM-CHAR: any CHAR except atom-specials. */
export const isAtomChar = (b: number): boolean => ATOM_CHAR[b] === 1;
/** ASTRING-CHAR: ATOM-CHAR / resp-specials. */
export const isAstringChar = (b: number): boolean => ASTRING_CHAR[b] === 1;
/** tag: any ASTRING-CHAR except "+". */
export const isTagChar = (b: number): boolean => TAG_CHAR[b] === 1;
/** list-char: ATOM-CHAR / list-wildcards / resp-specials. */
export const isListChar = (b: number): boolean => LIST_CHAR[b] === 1;
/** TEXT-CHAR: any CHAR except CR and LF. */
export const isTextChar = (b: number): boolean => TEXT_CHAR[b] === 1;
/** QUOTED-CHAR without the escaped forms: any TEXT-CHAR except quoted-specials. */
export const isQuotedChar = (b: number): boolean => QUOTED_CHAR[b] === 1;

/** Whether every byte of `s` (as latin1) passes `test` and `s` is not empty. */
export function allBytes(s: string, test: (b: number) => boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!test(s.charCodeAt(i))) return false;
  return true;
}

/** atom: 1*ATOM-CHAR. */
export const isAtom = (s: string): boolean => allBytes(s, isAtomChar);
/** tag: 1*<any ASTRING-CHAR except "+">. */
export const isTag = (s: string): boolean => allBytes(s, isTagChar);
