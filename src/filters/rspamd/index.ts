/** The built-in `rspamd` filter (placeholder until it is written). */
import type { RspamdOptions } from '../../config/builtins/rspamd.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createRspamdFilter(name: string, options: RspamdOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "rspamd" is not written yet`);
}
