/** Builds the chain an administrator configured: one child per enabled [[milter]], with its conditions. */
import type { Logger } from '../mail/logger.js';
import type { FallbackStatus as ConfigFallback, MailgateConfig, MilterConfig } from '../config/schema.js';
import { MilterClient } from '../milter/client.js';
import { Chain, type ChildDefinition } from './chain.js';
import type { Condition } from './condition.js';
import { createBuiltinCondition, createRegexCondition, isBuiltinConditionName } from './conditions/index.js';
import type { FallbackStatus } from './status.js';

export class ChainSetupError extends Error {
  override readonly name = 'ChainSetupError';
}

export function fallbackFrom(status: ConfigFallback): FallbackStatus {
  return status === 'temporary-failure' ? 'tempfail' : status;
}

export function chainFromConfig(config: MailgateConfig, logger: Logger): Chain {
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
      trust: { domains: [...config.trust.domains], replaceDefaults: config.trust.replaceDefaults },
      ...(config.stress.threshold !== undefined ? { stressThreshold: config.stress.threshold } : {}),
    });
  };
  const children: ChildDefinition[] = config.milters
    .filter((m) => m.enabled)
    .map((m) => ({
      name: m.name,
      filter: filterFor(m, logger),
      fallbackStatus: fallbackFrom(m.fallbackStatus),
      evaluationMode: m.evaluationMode,
      conditions: m.applicableConditions.map(conditionFor),
    }));
  return new Chain(children, { fallbackStatus: fallbackFrom(config.manager.fallbackStatus), logger });
}

function filterFor(m: MilterConfig, logger: Logger): ChildDefinition['filter'] {
  if (m.connectionSpec !== undefined) {
    return new MilterClient({ spec: m.connectionSpec, name: m.name, timeouts: m.timeouts, logger: logger.child({ child: m.name }) });
  }
  throw new ChainSetupError(`milter "${m.name}": built-in filter "${m.builtin}" is not available in this version`);
}
