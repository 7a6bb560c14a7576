/** The built-in `rules` filter (placeholder until it is written). */
import type { RulesOptions } from '../../config/builtins/rules.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createRulesFilter(name: string, options: RulesOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "rules" is not written yet`);
}
