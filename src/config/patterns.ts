/** Strings that may be regular expressions: "/source/flags" in the file, a RegExp in the config. */
import type { TextPattern } from './schema.js';

const REGEXP_FORM = /^\/(.*)\/([A-Za-z]*)$/s;

/** Compiles `source` with `flags`, or returns why it cannot be compiled. */
export function compileRegExp(source: string, flags: string): RegExp | string {
  try {
    return new RegExp(source, flags);
  } catch (err) {
    return (err as Error).message;
  }
}

/** True when `flags` is a valid set of RegExp flags. */
export function validRegExpFlags(flags: string): boolean {
  return typeof compileRegExp('', flags) !== 'string';
}

/** "/re/flags" → RegExp, any other non-empty string → itself; a string is an error message otherwise. */
export function parseTextPattern(text: string): { value: TextPattern } | { error: string } {
  if (text.length === 0) return { error: 'must not be empty' };
  const m = REGEXP_FORM.exec(text);
  if (m === null || text.length < 2) return { value: text };
  const source = m[1] ?? '';
  const flags = m[2] ?? '';
  if (source.length === 0) return { error: `${JSON.stringify(text)}: empty regular expression` };
  if (!validRegExpFlags(flags)) return { error: `${JSON.stringify(text)}: invalid regular expression flags "${flags}"` };
  const re = compileRegExp(source, flags);
  if (typeof re === 'string') return { error: `${JSON.stringify(text)}: ${re}` };
  return { value: re };
}

/** The file form of a pattern: the string itself, or "/source/flags". */
export function formatTextPattern(pattern: TextPattern): string {
  return typeof pattern === 'string' ? pattern : `/${pattern.source}/${pattern.flags}`;
}
