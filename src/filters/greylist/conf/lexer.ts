/**
 * greylist.conf lexer (milter-greylist's conf_lex.l, by hand): `#` comments, `\` line continuation,
 * "quoted strings" with \" and \\ escapes, /regex/ (a `\/` inside does not end it, as the real lexer
 * allows), `/N` CIDR masks as words, `{` and `}`, and bare words (keywords, addresses, times).
 */
import { describeToken, GreylistConfError, type ConfSource } from './source.js';
import type { Token } from './tokens.js';

const SPACE = new Set([' ', '\t', '\r', '\f', '\v']);
/** Characters that end a bare word. */
const WORD_END = new Set([' ', '\t', '\r', '\f', '\v', '\n', '"', '{', '}', '#']);

export function tokenize(text: string, source: ConfSource): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number): number => at - lineStart + 1;
  const fail = (reason: string, at: number, raw: string): never => {
    throw new GreylistConfError(reason, source, line, col(at), raw);
  };
  const push = (kind: Token['kind'], value: string, start: number, end: number): void => {
    tokens.push({ kind, value, raw: text.slice(start, end), line, column: col(start) });
  };

  while (pos < text.length) {
    const c = text[pos] as string;
    if (SPACE.has(c)) {
      pos++;
    } else if (c === '#') {
      while (pos < text.length && text[pos] !== '\n') pos++;
    } else if (c === '\\' && (text[pos + 1] === '\n' || (text[pos + 1] === '\r' && text[pos + 2] === '\n'))) {
      // A continued line: the statement goes on, the line count does not stop.
      pos += text[pos + 1] === '\n' ? 2 : 3;
      line++;
      lineStart = pos;
    } else if (c === '\n') {
      push('eol', '\n', pos, pos + 1);
      pos++;
      line++;
      lineStart = pos;
    } else if (c === '{') {
      push('lbrace', '{', pos, pos + 1);
      pos++;
    } else if (c === '}') {
      push('rbrace', '}', pos, pos + 1);
      pos++;
    } else if (c === '"') {
      const start = pos;
      let value = '';
      pos++;
      for (;;) {
        const d = text[pos];
        if (d === undefined || d === '\n') fail('unterminated quoted string', start, text.slice(start, pos));
        if (d === '"') break;
        if (d === '\\' && (text[pos + 1] === '"' || text[pos + 1] === '\\')) {
          value += text[pos + 1];
          pos += 2;
        } else {
          value += d;
          pos++;
        }
      }
      pos++;
      push('string', value, start, pos);
    } else if (c === '/' && !/^\/\d+(?=[\s{}#"]|$)/.test(text.slice(pos, pos + 5))) {
      const start = pos;
      let value = '';
      pos++;
      for (;;) {
        const d = text[pos];
        if (d === undefined || d === '\n') fail('unterminated regular expression', start, text.slice(start, pos));
        if (d === '/') break;
        if (d === '\\' && text[pos + 1] === '/') {
          value += '/';
          pos += 2;
        } else if (d === '\\' && text[pos + 1] !== undefined && text[pos + 1] !== '\n') {
          value += d + (text[pos + 1] as string);
          pos += 2;
        } else {
          value += d;
          pos++;
        }
      }
      pos++;
      if (value === '') fail('empty regular expression', start, '//');
      push('regex', value, start, pos);
    } else {
      const start = pos;
      while (pos < text.length && !WORD_END.has(text[pos] as string)) pos++;
      const word = text.slice(start, pos);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(word)) fail(`unexpected character in ${describeToken(word)}`, start, word);
      push('word', word, start, pos);
    }
  }
  tokens.push({ kind: 'eof', value: '', raw: '', line, column: col(pos) });
  return tokens;
}
