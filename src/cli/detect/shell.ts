/**
 * Just enough shell to read init scripts, /etc/default and /etc/sysconfig files and systemd command lines
 * the way milter-manager does: NAME=value assignments line by line (the last one wins), $VAR / ${VAR}
 * expansion from the assignments seen so far, and option values out of a command line. One refinement:
 * assignments inside `if [ -x /path ]; then ... fi` (and -e/-f/-d/-r/-s tests, possibly negated or joined
 * with &&) are skipped when the test is false on the inspected system, so that e.g. spamass-milter's
 * Postfix-only SOCKET applies only when Postfix is installed. Anything else counts as "may run".
 */
import { posix } from 'node:path';
import type { RootedFs } from './rooted-fs.js';

/** A value and where it was written. */
export interface Located {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export type Variables = Map<string, Located>;

export interface ShellParseOptions {
  /** Accept lower-case variable names too (Red Hat scripts use `socket="..."`). */
  readonly lowerCase?: boolean;
  /** Used to evaluate `[ -x /path ]` tests; without it every test counts as "may be true". */
  readonly fs?: RootedFs;
}

const UPPER_ASSIGNMENT = /(?:^|[^A-Za-z0-9_$])([A-Z0-9_]+)=("[^"]*"|'[^']*'|[^\s;]*)/;
const ANY_ASSIGNMENT = /(?:^|[^A-Za-z0-9_$])([A-Za-z0-9_]+)=("[^"]*"|'[^']*'|[^\s;]*)/;

type Truth = 'true' | 'false' | 'unknown';

interface IfFrame {
  state: Truth;
  /** A branch of this if was certainly taken. */
  taken: boolean;
  /** A branch of this if might have been taken. */
  maybeTaken: boolean;
}

/**
 * Adds the assignments of a shell file (`text`, read from the real path `file`) to `vars`, in order;
 * values are unquoted and expanded with the variables known at that point.
 */
export function parseShellAssignments(text: string, file: string, vars: Variables, options: ShellParseOptions = {}): void {
  const pattern = options.lowerCase === true ? ANY_ASSIGNMENT : UPPER_ASSIGNMENT;
  const stack: IfFrame[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const line = stripComment(lines[index] ?? '').trim();
    if (line.length === 0) continue;
    const test = (condition: string) => evaluate(condition, vars, options.fs);

    const oneLine = /^if\s+(.+?);\s*then\s+(.*?);?\s*fi\s*;?$/.exec(line);
    if (oneLine !== null) {
      if (!stack.some((f) => f.state === 'false') && test(oneLine[1] ?? '') !== 'false') {
        assign(oneLine[2] ?? '', pattern, file, index + 1, vars);
      }
      continue;
    }
    const opening = /^if\s+(.+?)(?:\s*;\s*then)?\s*$/.exec(line);
    if (opening !== null) {
      const state = test(opening[1] ?? '');
      stack.push({ state, taken: state === 'true', maybeTaken: state !== 'false' });
      continue;
    }
    const elif = /^elif\s+(.+?)(?:\s*;\s*then)?\s*$/.exec(line);
    const top = stack[stack.length - 1];
    if (elif !== null) {
      if (top !== undefined) {
        top.state = top.taken ? 'false' : test(elif[1] ?? '');
        if (top.state === 'true') top.taken = true;
        if (top.state !== 'false') top.maybeTaken = true;
      }
      continue;
    }
    if (/^else\b/.test(line)) {
      if (top !== undefined) top.state = top.taken ? 'false' : top.maybeTaken ? 'unknown' : 'true';
      const rest = line.replace(/^else\s*/, '');
      if (rest.length > 0 && !stack.some((f) => f.state === 'false')) assign(rest, pattern, file, index + 1, vars);
      continue;
    }
    if (/^fi\b/.test(line)) {
      stack.pop();
      continue;
    }
    if (stack.some((f) => f.state === 'false')) continue;
    assign(line.replace(/^then\s+/, ''), pattern, file, index + 1, vars);
  }
}

function assign(line: string, pattern: RegExp, file: string, lineNumber: number, vars: Variables): void {
  const m = pattern.exec(line);
  if (m === null || m[1] === undefined) return;
  vars.set(m[1], { value: expand(unquote(m[2] ?? ''), vars), file, line: lineNumber });
}

/** The line without a trailing `# comment` (a # that starts a word, outside quotes). */
export function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i += 1;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '\\') {
      i += 1;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) {
    return value.slice(1, -1);
  }
  return value;
}

/** Replaces $NAME and ${NAME} by known variables; unknown references are left as written. */
export function expand(value: string, vars: ReadonlyMap<string, Located>): string {
  return value.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, braced?: string, bare?: string) => {
    const known = vars.get(braced ?? bare ?? '');
    return known === undefined ? whole : known.value;
  });
}

/** Evaluates the file tests of an `if` condition; anything it cannot evaluate is 'unknown'. */
function evaluate(condition: string, vars: Variables, fs: RootedFs | undefined): Truth {
  if (fs === undefined || /\|\|/.test(condition)) return 'unknown';
  let result: Truth = 'true';
  for (const part of condition.split('&&')) {
    const m = /^(?:\[|test)\s+(!\s+)?-([xefdrs])\s+("?)([^\s"]+)\3\s*\]?$/.exec(part.trim());
    if (m === null) {
      result = 'unknown';
      continue;
    }
    const path = expand(m[4] ?? '', vars);
    if (!posix.isAbsolute(path) || path.includes('$')) {
      result = 'unknown';
      continue;
    }
    let holds: boolean;
    switch (m[2]) {
      case 'x':
        holds = fs.isExecutable(path);
        break;
      case 'f':
        holds = fs.isFile(path);
        break;
      case 'd':
        holds = fs.isDirectory(path);
        break;
      case 's':
        holds = (fs.stat(path)?.size ?? 0) > 0;
        break;
      default:
        holds = fs.stat(path) !== undefined;
    }
    if (m[1] !== undefined) holds = !holds;
    if (!holds) return 'false';
  }
  return result;
}

/** Splits a command line into words like a POSIX shell (quotes and backslashes); never throws. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word += end === -1 ? text.slice(i + 1) : text.slice(i + 1, end);
      i = end === -1 ? text.length : end;
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) {
        if (text[i] === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] ?? '')) i += 1;
        word += text[i] ?? '';
      }
    } else if (c === '\\') {
      i += 1;
      if (i < text.length) word += text[i] ?? '';
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The value of an option in a command line, milter-manager style: the word after the last `-p`, else the
 * rest of a word that starts with `-p` ("-punix:/x"); a long form `--name=value` / `--name value` too.
 * A value that is still a shell variable ("$SOCKET") does not count.
 */
export function optionValue(words: readonly string[], short: string | undefined, long?: string): string | undefined {
  const found = rawOptionValue(words, short, long);
  return found === undefined || found.startsWith('$') ? undefined : found;
}

/** Like optionValue, but a `$VARIABLE` value is returned as written. */
export function rawOptionValue(words: readonly string[], short: string | undefined, long?: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] ?? '';
    if (w === short || (long !== undefined && w === long)) {
      found = words[i + 1];
      i += 1;
    } else if (long !== undefined && w.startsWith(`${long}=`)) {
      found = w.slice(long.length + 1);
    } else if (short !== undefined && w.startsWith(short) && !w.startsWith('--')) {
      found = w.slice(short.length);
    }
  }
  return found === undefined || found.length === 0 ? undefined : found;
}
