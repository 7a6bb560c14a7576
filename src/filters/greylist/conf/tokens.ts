/** The tokens of greylist.conf. Newlines matter: a statement ends at the end of its line. */
export type TokenKind = 'word' | 'string' | 'regex' | 'lbrace' | 'rbrace' | 'eol' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** word: as written; string: the unquoted value; regex: the pattern between the slashes. */
  readonly value: string;
  /** The token exactly as written, for error messages. */
  readonly raw: string;
  readonly line: number;
  readonly column: number;
}
