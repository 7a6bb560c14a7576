/** Options of the built-in `auth` filter, read from its [[milter]] table (builtin = "auth"). */
import type { BuiltinReadContext } from './context.js';
import type { TableReader } from '../reader.js';

/** Keys this filter accepts in its [[milter]] table, besides the common ones. */
export const AUTH_KEYS = [] as const;

export interface AuthOptions {
  readonly placeholder?: undefined;
}

export function readAuthOptions(r: TableReader, ctx: BuiltinReadContext): AuthOptions {
  void r;
  void ctx;
  return {};
}
