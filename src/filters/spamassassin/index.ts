/** The built-in `spamassassin` filter (placeholder until it is written). */
import type { SpamAssassinOptions } from '../../config/builtins/spamassassin.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';

export function createSpamAssassinFilter(name: string, options: SpamAssassinOptions, ctx: FilterContext): Filter {
  void options;
  void ctx;
  throw new Error(`milter "${name}": the built-in filter "spamassassin" is not written yet`);
}
