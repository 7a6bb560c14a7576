/** The built-in `clamav` filter (placeholder until it is written). */
import type { ClamavOptions } from '../../config/builtins/clamav.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createClamavFilter(name: string, options: ClamavOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "clamav" is not written yet`);
}
