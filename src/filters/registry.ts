/**
 * Builds the filter a `[[milter]]` with `builtin = "NAME"` names. Each built-in's module (and its libraries:
 * mailauth, mailparser, the store drivers) is imported only when a [[milter]] names it, so that a server
 * with no built-in filter does not carry ~40 MB of code it never runs. loadBuiltinFilters() imports them
 * ahead of chain construction (what the CLI does), so that construction stays synchronous and a filter's
 * setup error (greylist.conf syntax, an unreadable key file) still stops the start.
 */
import type { BuiltinMilterConfig, MilterConfig } from '../config/schema.js';
import type { BuiltinName } from '../config/builtins/index.js';
import type { Filter } from '../mail/filter.js';
import type { FilterContext } from './context.js';
import { lazyFilter } from './lazy-filter.js';
import { parseGreylistOptions } from './greylist/options.js';
import { loadSigningKey } from './sender-auth/signing-keys.js';

/** The built-in modules imported so far. */
const modules: {
  greylist?: typeof import('./greylist/index.js');
  spamassassin?: typeof import('./spamassassin/index.js');
  rspamd?: typeof import('./rspamd/index.js');
  clamav?: typeof import('./clamav/index.js');
  'sender-auth'?: typeof import('./sender-auth/index.js');
  rules?: typeof import('./rules/index.js');
} = {};

/** Imports one built-in's module (once). The specifiers are literal, as the layer rules require. */
async function loadModule(name: BuiltinName): Promise<void> {
  switch (name) {
    case 'greylist':
      modules.greylist ??= await import('./greylist/index.js');
      return;
    case 'spamassassin':
      modules.spamassassin ??= await import('./spamassassin/index.js');
      return;
    case 'rspamd':
      modules.rspamd ??= await import('./rspamd/index.js');
      return;
    case 'clamav':
      modules.clamav ??= await import('./clamav/index.js');
      return;
    case 'sender-auth':
      modules['sender-auth'] ??= await import('./sender-auth/index.js');
      return;
    case 'rules':
      modules.rules ??= await import('./rules/index.js');
      return;
  }
}

/** Imports the modules of the enabled built-in filters among `milters`, so that createBuiltinFilter builds them at once. */
export async function loadBuiltinFilters(milters: readonly MilterConfig[]): Promise<void> {
  const names = new Set<BuiltinName>();
  for (const m of milters) if (m.enabled && m.connectionSpec === undefined) names.add(m.builtin);
  await Promise.all([...names].map(loadModule));
}

/** The filter, built now when its module is loaded; undefined when it is not. */
function buildNow(m: BuiltinMilterConfig, ctx: FilterContext): Filter | undefined {
  switch (m.builtin) {
    case 'greylist':
      return modules.greylist?.createGreylistFilter(m.name, m.options, ctx);
    case 'spamassassin':
      return modules.spamassassin?.createSpamAssassinFilter(m.name, m.options, ctx);
    case 'rspamd':
      return modules.rspamd?.createRspamdFilter(m.name, m.options, ctx);
    case 'clamav':
      return modules.clamav?.createClamavFilter(m.name, m.options, ctx);
    case 'sender-auth':
      return modules['sender-auth']?.createSenderAuthFilter(m.name, m.options, ctx);
    case 'rules':
      return modules.rules?.createRulesFilter(m.name, m.options, ctx);
  }
}

/**
 * The filter `m` names. Built at once when loadBuiltinFilters() loaded its module; otherwise its setup is
 * checked now (the errors a start must stop on) and the filter is built at its first session.
 */
export function createBuiltinFilter(m: BuiltinMilterConfig, ctx: FilterContext): Filter {
  const now = buildNow(m, ctx);
  if (now !== undefined) return now;
  checkBuiltinSetup(m);
  return lazyFilter(m.name, async () => {
    await loadModule(m.builtin);
    return buildNow(m, ctx)!;
  });
}

/**
 * Checks what a built-in filter reads besides mailgate.toml without starting it (no store opened,
 * nothing connected): greylist.conf's syntax. Throws the ConfigError the filter would throw at start.
 */
export function checkBuiltinFilter(m: BuiltinMilterConfig): void {
  if (m.builtin === 'greylist') parseGreylistOptions(m.options);
}

/** What construction would throw on, checked without the filter's module: greylist.conf, the DKIM key files. */
function checkBuiltinSetup(m: BuiltinMilterConfig): void {
  checkBuiltinFilter(m);
  if (m.builtin === 'sender-auth') for (const s of m.options.sign) loadSigningKey(s);
}
