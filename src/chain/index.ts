/**
 * mailgate/chain: the milter manager as a library, for a program that embeds it. What a user needs:
 * - Chain: children (MilterClient for remote milters, or in-process Filters) combined by
 *   milter-manager's rules; being a Filter, it is served with mailgate/milter's MilterServer;
 * - ReloadableChain: the filter to serve when the chain is replaced on reload (sessions in flight
 *   finish on the chain they started with);
 * - chainFromConfig with loadConfig/parseConfig: the chain `mailgate manager` builds from mailgate.toml;
 * - conditions: the Condition interface for one's own, the built-in ones by name, the regex condition;
 * - the Filter vocabulary of mail/ (also the package root `mailgate`).
 * Internal code imports the specific files, never this index. test/structure/public-api.test.ts holds
 * the list.
 */
import type { ChildDefinition } from './chain.js';

export { Chain, type ChainOptions, type ChildDefinition } from './chain.js';
export { ReloadableChain } from './reloadable.js';
export { chainFromConfig, ChainSetupError, type ChainEnvironment } from './from-config.js';
/** The DNS lookup a ChainEnvironment may inject (built-in filters' SPF, DNSBL... queries). */
export type { DnsResolver } from '../filters/shared/dns.js';
export { APPLY, STOP, type Condition, type ConditionContext, type ConditionStage, type ConditionVerdict } from './condition.js';
export { createBuiltinCondition, type BuiltinConditionOptions } from './conditions/index.js';
export { createRegexCondition, type RegexConditionOptions } from './conditions/regex-condition.js';
/** What a child contributes when it fails (milter-manager's fallback_status). */
export type FallbackStatus = ChildDefinition['fallbackStatus'];

export { ConfigError } from '../config/errors.js';
export { loadConfig, parseConfig, type LoadOptions, type ParseOptions } from '../config/load.js';
export type { LoadedConfig } from '../config/origin.js';
export type { MailgateConfig } from '../config/schema.js';

export * from '../mail/index.js';
