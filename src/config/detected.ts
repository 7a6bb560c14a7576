/** Adding auto-detected milters (manager.detect = true) to a loaded configuration. */
import { ConditionNames } from './condition-names.js';
import { ConfigError } from './errors.js';
import { milterOriginKey, type LoadedConfig } from './origin.js';
import { checkConnectionSpec } from './sections/manager.js';
import { checkApplicableConditions, MILTER_KEYS } from './sections/milter.js';
import type { MilterConfig } from './schema.js';

/**
 * Appends detected milters with origin 'detected' for every item. A detected milter whose name is already
 * configured is left out: the file wins. Throws ConfigError on an invalid detected milter.
 */
export function addDetectedMilters(loaded: LoadedConfig, detected: readonly MilterConfig[]): LoadedConfig {
  const names = new Set(loaded.config.milters.map((m) => m.name));
  const conditionNames = new ConditionNames(loaded.config.conditions.map((c) => c.name));
  const origins = new Map(loaded.origins);
  const added: MilterConfig[] = [];
  for (const milter of detected) {
    if (names.has(milter.name)) continue;
    const fail = (key: string) => (message: string) =>
      new ConfigError(message, { file: 'detected', key: `milter ${JSON.stringify(milter.name)}.${key}` });
    if (milter.name.length === 0) throw fail('name')('a detected milter has no name');
    if (milter.connectionSpec !== undefined) checkConnectionSpec(milter.connectionSpec, fail('connection_spec'));
    const applicableConditions = checkApplicableConditions(milter.applicableConditions, conditionNames, fail('applicable_conditions'));
    names.add(milter.name);
    added.push({ ...milter, applicableConditions });
    origins.set(milterOriginKey(milter.name), 'detected');
    for (const key of MILTER_KEYS) origins.set(milterOriginKey(milter.name, key), 'detected');
  }
  return { ...loaded, config: { ...loaded.config, milters: [...loaded.config.milters, ...added] }, origins };
}
