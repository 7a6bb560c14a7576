/** `detect = true`: the milters installed on this host join as children (a [[milter]] of the same name wins). */
import { detectMilters, toMilterConfigs } from './detect/index.js';
import { addDetectedMilters } from '../config/detected.js';
import type { LoadedConfig } from '../config/origin.js';

export function withDetectedChildren(loaded: LoadedConfig): LoadedConfig {
  return loaded.config.manager.detect ? addDetectedMilters(loaded, toMilterConfigs(detectMilters())) : loaded;
}
