/** Builds the chain an administrator configured: one child per enabled [[milter]], with its conditions. */
import type { Logger } from '../mail/logger.js';
import type { MailgateConfig, MilterConfig } from '../config/schema.js';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from '../config/errors.js';
import type { FilterContext } from '../filters/context.js';
import { createBuiltinFilter, loadBuiltinFilters } from '../filters/registry.js';
import { createDnsResolver, type DnsResolver } from '../filters/shared/dns.js';
import { createSpfChecker } from '../filters/shared/spf.js';
import { MilterClient } from '../milter/client.js';
import { Chain, type ChildDefinition } from './chain.js';
import { withStageTimeouts } from './stage-timeouts.js';
import type { Condition } from './condition.js';
import { createBuiltinCondition, createRegexCondition, isBuiltinConditionName } from './conditions/index.js';

export class ChainSetupError extends Error {
  override readonly name = 'ChainSetupError';
}

/** What built-in children share: time and DNS (injectable for tests). */
export interface ChainEnvironment {
  readonly now?: () => number;
  readonly resolver?: DnsResolver;
  /** The stress threshold when the configuration sets none (the manager's, learnt from Postfix). */
  readonly stressThreshold?: () => number;
}

/**
 * Imports the modules of the built-in filters `config` names (only those), so that chainFromConfig builds
 * them at once and their setup errors are thrown there. Without it they are built at their first session.
 */
export function loadConfiguredFilters(config: MailgateConfig): Promise<void> {
  return loadBuiltinFilters(config.milters);
}

export function chainFromConfig(config: MailgateConfig, logger: Logger, env: ChainEnvironment = {}): Chain {
  // A configuration loaded without its trust list (readTrustDomainsFile: false) must not trust less in silence.
  if (config.trust.domainsFile !== undefined && config.trust.fileDomains === undefined) {
    throw new ChainSetupError(`trust.domains_file ${config.trust.domainsFile} was not read: load the configuration with readTrustDomainsFile`);
  }
  const builtinContext = lazyBuiltinContext(config, env);
  const userConditions = new Map(config.conditions.map((c) => [c.name.toLowerCase(), c]));
  const conditionFor = (name: string): Condition => {
    const user = userConditions.get(name.toLowerCase());
    if (user) return createRegexCondition(user);
    if (!isBuiltinConditionName(name)) throw new ChainSetupError(`unknown applicable condition "${name}"`);
    return createBuiltinCondition(name, {
      s25r: { whitelist: [...config.s25r.whitelist], blacklist: [...config.s25r.blacklist], checkOnlyIpv4: config.s25r.checkOnlyIpv4 },
      remoteNetwork: {
        localAddresses: [...config.remoteNetwork.localAddresses],
        remoteAddresses: [...config.remoteNetwork.remoteAddresses],
      },
      trust: { domains: [...config.trust.domains, ...(config.trust.fileDomains ?? [])], replaceDefaults: config.trust.replaceDefaults },
      ...(config.stress.threshold !== undefined
        ? { stressThreshold: config.stress.threshold }
        : env.stressThreshold !== undefined
          ? { stressThreshold: env.stressThreshold }
          : {}),
    });
  };
  const children: ChildDefinition[] = config.milters
    .filter((m) => m.enabled)
    .map((m) => ({
      name: m.name,
      filter: filterFor(m, logger, builtinContext),
      fallbackStatus: m.fallbackStatus,
      evaluationMode: m.evaluationMode,
      conditions: m.applicableConditions.map(conditionFor),
    }));
  return new Chain(children, { fallbackStatus: config.manager.fallbackStatus, logger });
}

function filterFor(m: MilterConfig, logger: Logger, builtin: () => Omit<FilterContext, 'logger'>): ChildDefinition['filter'] {
  const childLogger = logger.child({ child: m.name });
  if (m.connectionSpec !== undefined) {
    return new MilterClient({ spec: m.connectionSpec, name: m.name, timeouts: m.timeouts, logger: childLogger });
  }
  try {
    return withStageTimeouts(createBuiltinFilter(m, { ...builtin(), logger: childLogger }), m.timeouts);
  } catch (err) {
    // A filter's own setup failure (greylist.conf syntax, unreadable key file) stops the start, as a bad config does.
    if (err instanceof ConfigError || err instanceof ChainSetupError) throw err;
    throw new ChainSetupError(`milter "${m.name}" (builtin ${m.builtin}): ${(err as Error).message}`);
  }
}

/** One resolver and one SPF cache for every built-in child, made only when there is one. */
function lazyBuiltinContext(config: MailgateConfig, env: ChainEnvironment): () => Omit<FilterContext, 'logger'> {
  let ctx: Omit<FilterContext, 'logger'> | undefined;
  return () => {
    if (ctx) return ctx;
    const now = env.now ?? Date.now;
    const resolver = env.resolver ?? createDnsResolver(config.manager.dnsServers);
    ctx = { dataDir: resolve(config.dataDir), now, resolver, spf: createSpfChecker(resolver, { now, mta: hostname() }) };
    return ctx;
  };
}
