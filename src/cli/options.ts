/** Option parsers shared by the commands. */
import { InvalidArgumentError } from 'commander';

/** A bad invocation: the command prints it and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A repeatable option. Give it no default: commander would print `(default: [])` in the help. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function numberOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative number`);
  return n;
}

export function macroOption(value: string, previous: [string, string][] = []): [string, string][] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError(`macro name and value delimiter ':' doesn't exist: <${value}>`);
  return [...previous, [value.slice(0, colon), value.slice(colon + 1)]];
}
