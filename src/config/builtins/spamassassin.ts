/** Options of the built-in `spamassassin` filter, read from its [[milter]] table (builtin = "spamassassin"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const SPAMASSASSIN_KEYS = [] as const;

export interface SpamAssassinOptions {
  readonly placeholder?: undefined;
}

export function readSpamAssassinOptions(r: TableReader, ctx: BuiltinReadContext): SpamAssassinOptions {
  void r;
  void ctx;
  return {};
}
