/**
 * `mailgate regex test PATTERN`: shows what a rule's pattern matches before it goes live, on the same
 * text the rules filter would see (decoded body, or unfolded and decoded header values).
 * Exit status: 0 something matched, 1 nothing did, 2 bad pattern or bad invocation.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parsePatternText, RULES_DEFAULTS } from '../config/builtins/rules.js';
import { UsageError } from './options.js';

interface TestOptions {
  text?: string;
  file?: string;
  header?: string;
  flags?: string;
  maxTextSize: number;
}

/** One text the pattern runs on, and how to name it in the output. */
interface Subject {
  readonly label: string | undefined;
  readonly text: string;
}

/** More matches than this are counted, not printed. */
const MAX_PRINTED = 1000;

export function regexCommand(): Command {
  const test = new Command('test')
    .description('show every match of PATTERN (with positions and captured groups) in a text, a message body or its headers')
    .argument('<pattern>', 'a JavaScript regular expression: /source/flags, or the bare source (with --flags)')
    .option('--text <text>', 'the text to search')
    .option('--file <message.eml>', 'a message: its decoded body text is searched (or a header with --header)')
    .option('--header <name>', 'with --file: search the values of this header (unfolded, encoded words decoded)')
    .option('--flags <flags>', 'regular expression flags, e.g. i (case-insensitive), m, s, u')
    .addOption(
      new Option('--max-text-size <chars>', 'characters searched, as the rules filter does (its max_text_size)')
        .default(RULES_DEFAULTS.maxTextSize)
        .argParser(positiveInteger),
    )
    .exitOverride()
    .action(async (pattern: string, opts: TestOptions) => {
      const re = parsePatternText(pattern, opts.flags);
      if (typeof re === 'string') throw new UsageError(`invalid pattern ${JSON.stringify(pattern)}: ${re.replace(/^flags: /, '')}`);
      const subjects = await subjectsFor(opts);
      const count = printMatches(re, subjects, opts.maxTextSize, (line) => process.stdout.write(`${line}\n`));
      process.exitCode = count > 0 ? 0 : 1;
    });
  return new Command('regex').description('try the regular expressions of rules').addCommand(test);
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  return n;
}

async function subjectsFor(opts: TestOptions): Promise<Subject[]> {
  if (opts.text !== undefined && opts.file !== undefined) throw new UsageError('give either --text or --file, not both');
  if (opts.header !== undefined && opts.file === undefined) throw new UsageError('--header needs --file (the message whose header is searched)');
  if (opts.text !== undefined) return [{ label: undefined, text: opts.text }];
  if (opts.file === undefined) return [{ label: undefined, text: readFileSync(0, 'utf8') }];
  let message: Buffer;
  try {
    message = readFileSync(opts.file);
  } catch (err) {
    throw new UsageError(`cannot read ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // mailparser is imported here, not at the top: every command (`mailgate start` too) loads this file.
  const [{ simpleParser }, { bodyText }, { headerText }] = await Promise.all([
    import('mailparser'),
    import('../filters/rules/body-text.js'),
    import('../filters/rules/header-text.js'),
  ]);
  if (opts.header === undefined) return [{ label: undefined, text: await bodyText(message, Number.POSITIVE_INFINITY) }];
  const wanted = opts.header.toLowerCase();
  const parsed = await simpleParser(message, { skipHtmlToText: true, skipTextToHtml: true });
  const values = parsed.headerLines.filter((h) => h.key === wanted).map((h) => headerText(h.line.slice(h.line.indexOf(':') + 1).replace(/^[ \t]+/, '')));
  return values.map((text, i) => ({ label: `${opts.header} #${i + 1}`, text }));
}

/** Prints every match in every subject; returns how many there were. */
export function printMatches(re: RegExp, subjects: readonly Subject[], maxTextSize: number, out: (line: string) => void): number {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  let count = 0;
  if (subjects.length === 0) out('no text to search (the header is not in the message)');
  for (const subject of subjects) {
    let text = subject.text;
    if (text.length > maxTextSize) {
      out(`${subject.label ?? 'text'}: cut to the first ${maxTextSize} of ${text.length} characters, as the rules filter does`);
      text = text.slice(0, maxTextSize);
    }
    const position = positionFinder(text);
    for (const m of text.matchAll(global)) {
      count++;
      if (count > MAX_PRINTED) continue;
      const offset = m.index ?? 0;
      const { line, column } = position(offset);
      const where = subject.label === undefined ? '' : ` in ${subject.label}`;
      out(`match ${count}${where}: line ${line}, column ${column}, offset ${offset}: ${JSON.stringify(m[0])}`);
      for (let g = 1; g < m.length; g++) out(`  $${g} = ${groupText(m[g])}`);
      for (const [name, value] of Object.entries(m.groups ?? {})) out(`  $<${name}> = ${groupText(value)}`);
    }
  }
  if (count > MAX_PRINTED) out(`... ${count - MAX_PRINTED} more matches not shown`);
  out(count === 0 ? 'no match' : `${count} match${count === 1 ? '' : 'es'}`);
  return count;
}

function groupText(value: string | undefined): string {
  return value === undefined ? '(did not take part in the match)' : JSON.stringify(value);
}

/** 1-based line and column (UTF-16 code units, as JavaScript counts) of an offset into `text`. */
export function positionFinder(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
  };
}
