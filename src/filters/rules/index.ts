/** The built-in `rules` filter: regular-expression rules on the envelope, headers and decoded body. */
import type { RulesOptions } from '../../config/builtins/rules.js';
import { defineFilter } from '../../mail/define-filter.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';
import { Matcher } from './matcher.js';
import { rulesSession } from './session.js';
import { wantsFor } from './wants.js';

export function createRulesFilter(name: string, options: RulesOptions, ctx: FilterContext): Filter {
  const { logger } = ctx;
  const matcher = new Matcher(options.matchTimeout, (job, reason) => {
    logger.warn({ rule: job.label, textLength: job.text.length }, `rule ${job.label ?? '?'}: pattern ${reason}; counted as not matching`);
  });
  return defineFilter(name, wantsFor(options), () => rulesSession({ options, matcher, logger }));
}
