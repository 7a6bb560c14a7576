/**
 * Auto-detection of installed milters (milter-manager's Debian / Red Hat detectors) and their child configs.
 *
 * Why here, in cli/ and not in config/: this scans the host (init scripts, systemd units, the milters'
 * own configuration files) and is run only by commands (`mailgate detect`, and `mailgate manager` /
 * `show-config` when `[manager] detect` is on, through cli/detected-children.ts). config/ is the bottom
 * layer: it reads mailgate.toml and nothing else, and imports no other folder; the scanner needs
 * milter/'s connection-spec parser, so it sits at the top with the commands that use it. What it finds
 * enters the configuration through config/detected.ts (addDetectedMilters), as typed child configs.
 */
import { DEFAULT_MILTER } from '../../config/defaults.js';
import type { MilterConfig } from '../../config/schema.js';
import type { DetectedMilter } from './types.js';

export { detectMilters, detectPlatform } from './detect.js';
export { normalizeSocket, type NormalizedSpec } from './normalize.js';
export { CANDIDATES, type Candidate } from './candidates.js';
export type { DetectedMilter, DetectOptions, Platform, ServiceKind, SocketSource } from './types.js';

/**
 * Child definitions for the detected milters that have a usable connection spec (those with a `problem`
 * are left out), with milter-manager's defaults: enabled as detected, fallback_status "accept",
 * evaluation_mode false, timeouts 297/7/7/297 s; milter-greylist's longest tarpit is added to the reading
 * and writing timeouts, as milter-manager does. Feed the result to addDetectedMilters.
 */
export function toMilterConfigs(detected: readonly DetectedMilter[]): MilterConfig[] {
  const configs: MilterConfig[] = [];
  for (const milter of detected) {
    if (milter.connectionSpec === undefined || milter.problem !== undefined) continue;
    const tarpit = milter.tarpitSeconds ?? 0;
    const timeouts = DEFAULT_MILTER.timeouts;
    configs.push({
      name: milter.name,
      ...(milter.description !== undefined ? { description: milter.description } : {}),
      connectionSpec: milter.connectionSpec,
      enabled: milter.enabled,
      fallbackStatus: DEFAULT_MILTER.fallbackStatus,
      evaluationMode: DEFAULT_MILTER.evaluationMode,
      applicableConditions: [...milter.applicableConditions],
      timeouts: { ...timeouts, reading: timeouts.reading + tarpit, writing: timeouts.writing + tarpit },
    });
  }
  return configs;
}
