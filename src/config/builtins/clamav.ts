/** Options of the built-in `clamav` filter, read from its [[milter]] table (builtin = "clamav"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const CLAMAV_KEYS = [] as const;

export interface ClamavOptions {
  readonly placeholder?: undefined;
}

export function readClamavOptions(r: TableReader, ctx: BuiltinReadContext): ClamavOptions {
  void r;
  void ctx;
  return {};
}
