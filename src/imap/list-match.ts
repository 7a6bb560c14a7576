/**
 * LIST and LSUB name matching (RFC 3501 §6.3.8-9): the reference and the pattern are joined into one
 * pattern over Unicode names with '/' as the separator; '*' matches anything, '%' anything but '/'.
 * INBOX is case-insensitive as a first level (RFC 3501 §5.1), so a pattern starting with "inbox" in any
 * case matches it, as Dovecot's does ("InBoX*" lists INBOX). No regular expressions: see compilePattern.
 */
import { SEPARATOR } from './mailbox-name.js';

/** A compiled LIST pattern. */
export interface ListPattern {
  /** The joined pattern as text (reference + pattern). */
  readonly text: string;
  /** Whether a (canonical) mailbox name matches. */
  matches(name: string): boolean;
}

/**
 * Joins reference and pattern (RFC 3501 §6.3.8: "interpreted as a reference name concatenated with the
 * mailbox name"); a pattern starting with the separator is taken as absolute and the reference is ignored.
 */
export function joinReference(reference: string, pattern: string): string {
  if (reference === '' || pattern.startsWith(SEPARATOR)) return pattern;
  return reference + pattern;
}

/** "inbox…" / "InBoX…" at the start of a pattern, when followed by the end, '/', or a wildcard, → "INBOX…". */
function canonicalInboxPrefix(pattern: string): string {
  if (pattern.length < 5 || pattern.slice(0, 5).toUpperCase() !== 'INBOX') return pattern;
  const next = pattern[5];
  if (next === undefined || next === SEPARATOR || next === '*' || next === '%') return 'INBOX' + pattern.slice(5);
  return pattern;
}

const STAR = 1;
const PERCENT = 2;
type Token = string | typeof STAR | typeof PERCENT;

/**
 * Matching by dynamic programming over (pattern position, name position): O(pattern × name) whatever the
 * wildcards, where a regular expression could backtrack exponentially on "*a*a*a…b" (a blocked event loop).
 * Runs of wildcards collapse first ("*%*" is "*").
 */
export function compilePattern(reference: string, pattern: string): ListPattern {
  const text = canonicalInboxPrefix(joinReference(reference, pattern));
  const tokens: Token[] = [];
  let literals = 0;
  for (const ch of text) {
    const last = tokens[tokens.length - 1];
    if (ch === '*' || ch === '%') {
      const t = ch === '*' ? STAR : PERCENT;
      if (last === STAR || last === PERCENT) tokens[tokens.length - 1] = last === STAR || t === STAR ? STAR : PERCENT;
      else tokens.push(t);
    } else {
      tokens.push(ch);
      literals++;
    }
  }
  return { text, matches: (name) => match(tokens, literals, name) };
}

function match(tokens: readonly Token[], literals: number, name: string): boolean {
  const chars = Array.from(name);
  const n = chars.length;
  if (literals > n) return false;
  let prev = new Uint8Array(n + 1);
  let cur = new Uint8Array(n + 1);
  prev[0] = 1;
  for (const token of tokens) {
    cur.fill(0);
    if (token === STAR) {
      cur[0] = prev[0]!;
      for (let j = 1; j <= n; j++) cur[j] = prev[j]! | cur[j - 1]!;
    } else if (token === PERCENT) {
      cur[0] = prev[0]!;
      for (let j = 1; j <= n; j++) cur[j] = prev[j]! | (cur[j - 1]! & (chars[j - 1] === SEPARATOR ? 0 : 1));
    } else {
      for (let j = 1; j <= n; j++) cur[j] = prev[j - 1]! & (chars[j - 1] === token ? 1 : 0);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[n] === 1;
}

/** The proper ancestors of a name: "a/b/c" → ["a", "a/b"]. */
export function ancestors(name: string): string[] {
  const parts = name.split(SEPARATOR);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(SEPARATOR));
  return out;
}

/**
 * What `LIST <reference> ""` answers (RFC 3501 §6.3.8): the hierarchy delimiter and the root name of the
 * reference — "" for an empty reference, else its first level followed by the separator ("foo/bar" →
 * "foo/", as Dovecot answers).
 */
export function referenceRoot(reference: string): string {
  if (reference === '') return '';
  const slash = reference.indexOf(SEPARATOR);
  return (slash === -1 ? reference : reference.slice(0, slash)) + SEPARATOR;
}
