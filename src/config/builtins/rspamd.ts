/** Options of the built-in `rspamd` filter, read from its [[milter]] table (builtin = "rspamd"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const RSPAMD_KEYS = [] as const;

export interface RspamdOptions {
  readonly placeholder?: undefined;
}

export function readRspamdOptions(r: TableReader, ctx: BuiltinReadContext): RspamdOptions {
  void r;
  void ctx;
  return {};
}
