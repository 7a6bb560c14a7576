/** Builds the filter a `[[milter]]` with `builtin = "NAME"` names. */
import type { BuiltinMilterConfig } from '../config/schema.js';
import type { Filter } from '../mail/filter.js';
import { createSenderAuthFilter } from './sender-auth/index.js';
import { createClamavFilter } from './clamav/index.js';
import type { FilterContext } from './context.js';
import { createGreylistFilter, parseGreylistOptions } from './greylist/index.js';
import { createRspamdFilter } from './rspamd/index.js';
import { createRulesFilter } from './rules/index.js';
import { createSpamAssassinFilter } from './spamassassin/index.js';

export function createBuiltinFilter(m: BuiltinMilterConfig, ctx: FilterContext): Filter {
  switch (m.builtin) {
    case 'greylist':
      return createGreylistFilter(m.name, m.options, ctx);
    case 'spamassassin':
      return createSpamAssassinFilter(m.name, m.options, ctx);
    case 'rspamd':
      return createRspamdFilter(m.name, m.options, ctx);
    case 'clamav':
      return createClamavFilter(m.name, m.options, ctx);
    case 'sender-auth':
      return createSenderAuthFilter(m.name, m.options, ctx);
    case 'rules':
      return createRulesFilter(m.name, m.options, ctx);
  }
}

/**
 * Checks what a built-in filter reads besides mailgate.toml without starting it (no store opened,
 * nothing connected): greylist.conf's syntax. Throws the ConfigError the filter would throw at start.
 */
export function checkBuiltinFilter(m: BuiltinMilterConfig): void {
  if (m.builtin === 'greylist') parseGreylistOptions(m.options);
}
