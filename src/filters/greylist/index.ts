/** The built-in `greylist` filter (placeholder until it is written). */
import type { GreylistOptions } from '../../config/builtins/greylist.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createGreylistFilter(name: string, options: GreylistOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "greylist" is not written yet`);
}
