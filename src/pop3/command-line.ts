/**
 * One POP3 command line → keyword and argument text (RFC 1939 §3: a case-insensitive keyword of 3-4
 * printable characters, arguments separated by one space). Refused here, before any state is touched: NUL
 * and other control characters, an 8-bit keyword. Arguments may be UTF-8 (a password); message numbers and
 * line counts are parsed strictly (digits only: no sign, no space, no hex), with the text Dovecot answers.
 */
import { printable } from './wire.js';

export type ParsedLine = { readonly keyword: string; readonly args: string } | { readonly problem: string };

export function parseCommandLine(line: Buffer): ParsedLine {
  if (line.length === 0) return { problem: 'Empty command' };
  for (const b of line) if (b < 0x20 && b !== 0x09) return { problem: 'Control characters are not allowed in a command' };
  if (line.includes(0x7f)) return { problem: 'Control characters are not allowed in a command' };
  const space = line.indexOf(0x20);
  const head = space === -1 ? line : line.subarray(0, space);
  for (const b of head) if (b <= 0x20 || b > 0x7e) return { problem: 'The command name must be printable ASCII' };
  const keyword = head.toString('ascii').toUpperCase();
  const args = space === -1 ? '' : line.subarray(space + 1).toString('utf8');
  return { keyword, args };
}

/** A message number (1-based) or Dovecot's error text. */
export function parseNumber(text: string, what: 'message' | 'lines'): { readonly value: number } | { readonly problem: string } {
  if (text === '') return { problem: what === 'message' ? 'Missing message number' : 'Missing line count' };
  if (!/^[0-9]+$/.test(text)) return { problem: what === 'message' ? `Invalid message number: ${printable(text)}` : `Invalid size: ${printable(text)}` };
  const value = Number(text);
  // Past 2^53 a number is no longer exact; no maildrop or message has that many of anything.
  if (!Number.isSafeInteger(value)) return { problem: what === 'message' ? `Message number too large: ${printable(text)}` : `Size too large: ${printable(text)}` };
  return { value };
}

/** Splits arguments on single spaces, as RFC 1939 writes them (several spaces: empty arguments, refused by the callers). */
export function splitArgs(args: string): string[] {
  return args === '' ? [] : args.split(' ');
}
