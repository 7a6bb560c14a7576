/** Options of the built-in `rules` filter, read from its [[milter]] table (builtin = "rules"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const RULES_KEYS = [] as const;

export interface RulesOptions {
  readonly placeholder?: undefined;
}

export function readRulesOptions(r: TableReader, ctx: BuiltinReadContext): RulesOptions {
  void r;
  void ctx;
  return {};
}
