/** The built-in `auth` filter (placeholder until it is written). */
import type { AuthOptions } from '../../config/builtins/auth.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createAuthFilter(name: string, options: AuthOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "auth" is not written yet`);
}
