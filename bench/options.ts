/**
 * The benchmarks' one option parser: every bench names its options here (counts, flags, words with a
 * fixed set of values) and gets them typed and checked, with `--help` and one error line for a bad
 * value, so no bench repeats the parsing.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface CountOption {
  readonly kind: 'count';
  readonly default: number;
  readonly help: string;
}
interface FlagOption {
  readonly kind: 'flag';
  readonly help: string;
}
interface ChoiceOption<C extends string = string> {
  readonly kind: 'choice';
  readonly choices: readonly C[];
  readonly default?: C;
  readonly help: string;
}
interface ListOption<C extends string = string> {
  readonly kind: 'list';
  readonly choices: readonly C[];
  readonly default: readonly C[];
  readonly help: string;
}
interface DirOption {
  readonly kind: 'dir';
  readonly help: string;
}
type BenchOption = CountOption | FlagOption | ChoiceOption | ListOption | DirOption;

type ValueOf<O> = O extends CountOption
  ? number
  : O extends FlagOption
    ? boolean
    : O extends ChoiceOption<infer C>
      ? O extends { default: C } ? C : C | undefined
      : O extends ListOption<infer C>
        ? readonly C[]
        : O extends DirOption
          ? string | undefined
          : never;

export type BenchValues<S> = { readonly [K in keyof S]: ValueOf<S[K]> };

export const count = (defaultValue: number, help: string): CountOption => ({ kind: 'count', default: defaultValue, help });
export const flag = (help: string): FlagOption => ({ kind: 'flag', help });
export const dir = (help: string): DirOption => ({ kind: 'dir', help });
export function choice<const C extends string>(choices: readonly C[], help: string): ChoiceOption<C>;
export function choice<const C extends string>(choices: readonly C[], help: string, defaultValue: C): ChoiceOption<C> & { default: C };
export function choice<const C extends string>(choices: readonly C[], help: string, defaultValue?: C): ChoiceOption<C> {
  return { kind: 'choice', choices, help, ...(defaultValue === undefined ? {} : { default: defaultValue }) };
}
export const list = <const C extends string>(choices: readonly C[], defaultValue: readonly C[], help: string): ListOption<C> => ({
  kind: 'list',
  choices,
  default: defaultValue,
  help,
});

class UsageError extends Error {}

/** Parses `argv` against `spec`; on `--help` prints the options and exits 0, on a bad option one line and exits 2. */
export function benchOptions<const S extends Record<string, BenchOption>>(bench: string, spec: S, argv = process.argv.slice(2)): BenchValues<S> {
  try {
    return parse(spec, argv);
  } catch (err) {
    if (err instanceof UsageError && err.message === 'help') {
      process.stdout.write(usage(bench, spec));
      process.exit(0);
    }
    process.stderr.write(`${bench}: ${(err as Error).message} (--help lists the options)\n`);
    process.exit(2);
  }
}

function parse<S extends Record<string, BenchOption>>(spec: S, argv: readonly string[]): BenchValues<S> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(spec)) options[name] = { type: o.kind === 'flag' ? 'boolean' : 'string' };
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  if (values['help'] === true) throw new UsageError('help');
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec)) {
    const raw = values[name];
    out[name] = valueOf(name, o, typeof raw === 'string' ? raw : undefined, raw === true);
  }
  return out as BenchValues<S>;
}

function valueOf(name: string, o: BenchOption, raw: string | undefined, set: boolean): unknown {
  switch (o.kind) {
    case 'flag':
      return set;
    case 'dir':
      return raw === undefined ? undefined : resolve(raw);
    case 'count': {
      if (raw === undefined) return o.default;
      const n = Number(raw);
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, not ${JSON.stringify(raw)}`);
      return n;
    }
    case 'choice':
      if (raw === undefined) return o.default;
      if (!o.choices.includes(raw)) throw new UsageError(`--${name} takes one of ${o.choices.join(', ')}, not ${JSON.stringify(raw)}`);
      return raw;
    case 'list': {
      if (raw === undefined) return o.default;
      const items = raw.split(',').filter((s) => s !== '');
      const bad = items.find((s) => !o.choices.includes(s));
      if (bad !== undefined || items.length === 0) throw new UsageError(`--${name} takes a comma-separated list of ${o.choices.join(', ')}`);
      return items;
    }
  }
}

function usage(bench: string, spec: Record<string, BenchOption>): string {
  const lines = [`usage: npm run ${bench} -- [options]`];
  for (const [name, o] of Object.entries(spec)) {
    const arg = o.kind === 'flag' ? '' : o.kind === 'count' ? ' N' : o.kind === 'dir' ? ' DIR' : ` ${o.choices.join(o.kind === 'list' ? ',' : '|')}`;
    const def = o.kind === 'count' ? ` (default ${o.default})` : o.kind === 'list' ? ` (default ${o.default.join(',')})` : o.kind === 'choice' && o.default !== undefined ? ` (default ${o.default})` : '';
    lines.push(`  --${name}${arg}  ${o.help}${def}`);
  }
  return `${lines.join('\n')}\n`;
}
