/**
 * The built-in filters' option readers. Each filter's options are written flat in its [[milter]]
 * table next to the common keys (name, applicable_conditions, ...), so they are checked here, in the
 * config layer, with file:line errors like every other key; the filter receives typed options.
 *
 * Why here, in config/ and not beside each filter in filters/: config/ is the bottom layer and must
 * check the whole file (unknown keys, types, ranges, show-config's printing) without loading a
 * filter, its dependencies (mailauth, ioredis, better-sqlite3) or a connection; and filters/ sits
 * above config/, so the option types can only be defined here for both to use. What a filter reads
 * besides mailgate.toml (greylist.conf) it parses itself, at start (filters/registry.ts,
 * checkBuiltinFilter for show-config). The readers use nothing above config/.
 */
import type { TableReader } from '../reader.js';
import { SENDER_AUTH_KEYS, readSenderAuthOptions, type SenderAuthOptions } from './sender-auth.js';
import { CLAMAV_KEYS, readClamavOptions, type ClamavOptions } from './clamav.js';
import type { BuiltinReadContext } from './context.js';
import { GREYLIST_KEYS, readGreylistOptions, type GreylistOptions } from './greylist.js';
import { readRspamdOptions, RSPAMD_KEYS, type RspamdOptions } from './rspamd.js';
import { readRulesOptions, RULES_KEYS, type RulesOptions } from './rules.js';
import { readSpamAssassinOptions, SPAMASSASSIN_KEYS, type SpamAssassinOptions } from './spamassassin.js';

export type { SenderAuthOptions, BuiltinReadContext, ClamavOptions, GreylistOptions, RspamdOptions, RulesOptions, SpamAssassinOptions };

export interface BuiltinOptionsMap {
  greylist: GreylistOptions;
  spamassassin: SpamAssassinOptions;
  rspamd: RspamdOptions;
  clamav: ClamavOptions;
  'sender-auth': SenderAuthOptions;
  rules: RulesOptions;
}

export type BuiltinName = keyof BuiltinOptionsMap;

interface BuiltinReader<K extends BuiltinName> {
  readonly keys: readonly string[];
  read(r: TableReader, ctx: BuiltinReadContext): BuiltinOptionsMap[K];
}

const READERS: { readonly [K in BuiltinName]: BuiltinReader<K> } = {
  greylist: { keys: GREYLIST_KEYS, read: readGreylistOptions },
  spamassassin: { keys: SPAMASSASSIN_KEYS, read: readSpamAssassinOptions },
  rspamd: { keys: RSPAMD_KEYS, read: readRspamdOptions },
  clamav: { keys: CLAMAV_KEYS, read: readClamavOptions },
  'sender-auth': { keys: SENDER_AUTH_KEYS, read: readSenderAuthOptions },
  rules: { keys: RULES_KEYS, read: readRulesOptions },
};

export const BUILTIN_NAMES = Object.keys(READERS) as BuiltinName[];

/**
 * Former names still accepted in `builtin = "..."`: the filter is then read, run and printed (show-config)
 * under its canonical name. "auth" was renamed so as not to be confused with SMTP AUTH and the
 * Authenticated condition.
 */
export const BUILTIN_ALIASES: { readonly [alias: string]: BuiltinName } = { auth: 'sender-auth' };

export function isBuiltinName(name: string): name is BuiltinName {
  return Object.hasOwn(READERS, name);
}

/** The canonical built-in filter `name` stands for (itself or the filter it is an alias of); undefined if none. */
export function resolveBuiltinName(name: string): BuiltinName | undefined {
  if (isBuiltinName(name)) return name;
  return Object.hasOwn(BUILTIN_ALIASES, name) ? BUILTIN_ALIASES[name] : undefined;
}

/** Option keys of `name` (not the common [[milter]] keys). */
export function builtinKeys(name: BuiltinName): readonly string[] {
  return READERS[name].keys;
}

export function readBuiltinOptions<K extends BuiltinName>(name: K, r: TableReader, ctx: BuiltinReadContext): BuiltinOptionsMap[K] {
  return READERS[name].read(r, ctx);
}
