/** Options of the built-in `greylist` filter, read from its [[milter]] table (builtin = "greylist"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const GREYLIST_KEYS = [] as const;

export interface GreylistOptions {
  readonly placeholder?: undefined;
}

export function readGreylistOptions(r: TableReader, ctx: BuiltinReadContext): GreylistOptions {
  void r;
  void ctx;
  return {};
}
