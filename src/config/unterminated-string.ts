/**
 * Finds the first string that is never closed, so a missing quote is reported as such, at the line the
 * string starts on: smol-toml reports it as "control characters are not allowed in strings" (the newline
 * it ran into). Only consulted after smol-toml rejected the text; quotes in valid TOML appear only in
 * strings and comments, so up to the error this light scan reads the document as TOML does.
 */

export interface UnterminatedString {
  /** 1-based line of the opening quote. */
  readonly line: number;
  /** The opening delimiter: ", ', """ or '''. */
  readonly quote: string;
}

export function findUnterminatedString(text: string): UnterminatedString | undefined {
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      const triple = c.repeat(3);
      const basic = c === '"';
      if (text.startsWith(triple, i)) {
        i += 3;
        for (;;) {
          if (i >= text.length) return { line: start, quote: triple };
          if (basic && text[i] === '\\') {
            i++; // the escaped character (a newline: a line-ending backslash) is looked at below
            if (text[i] === '\n') line++;
            i++;
            continue;
          }
          if (text.startsWith(triple, i)) {
            i += 3;
            while (text[i] === c) i++; // up to two quotes may end the content
            break;
          }
          if (text[i] === '\n') line++;
          i++;
        }
      } else {
        i++;
        for (;;) {
          if (i >= text.length || text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) return { line: start, quote: c };
          if (basic && text[i] === '\\' && text[i + 1] !== '\n') i += 2;
          else if (text[i++] === c) break;
        }
      }
    } else {
      i++;
    }
  }
  return undefined;
}
