/**
 * The built-in applicable conditions by their milter-manager names, for the configuration
 * (`applicable_conditions`). User-defined conditions come from regex-condition.ts.
 */
import { BUILTIN_CONDITIONS, type BuiltinConditionName } from '../../config/condition-names.js';
import type { Condition } from '../condition.js';
import { createAuthenticated, createUnauthenticated } from './authenticated.js';
import { createRemoteNetwork, type RemoteNetworkOptions } from './remote-network.js';
import { createS25r, type S25rOptions } from './s25r.js';
import { createNoStress, createStressNotify } from './stress.js';
import { createTrust, type TrustOptions } from './trust.js';

export { createAuthenticated, createUnauthenticated, isAuthenticated } from './authenticated.js';
export { createRemoteNetwork, DEFAULT_LOCAL_NETWORKS, type RemoteNetworkOptions } from './remote-network.js';
export { createS25r, DEFAULT_S25R_BLACKLIST, DEFAULT_S25R_WHITELIST, type S25rOptions } from './s25r.js';
export { createNoStress, createStressNotify, type StressOptions } from './stress.js';
export { createTrust, DEFAULT_TRUSTED_DOMAINS, loadTrustDomains, senderDomain, type TrustOptions } from './trust.js';
export {
  createRegexCondition,
  type RegexConditionAction,
  type RegexConditionField,
  type RegexConditionOptions,
} from './regex-condition.js';
export type { NamePattern } from './patterns.js';

/** The names live in config/ (the configuration validates them); the conditions are made here. */
export const BUILTIN_CONDITION_NAMES = BUILTIN_CONDITIONS;
export type { BuiltinConditionName };

export interface BuiltinConditionOptions {
  s25r?: S25rOptions;
  remoteNetwork?: RemoteNetworkOptions;
  trust?: TrustOptions;
  /**
   * Sessions in progress at which Stress Notify / No Stress count as stressed; 0 or absent = never
   * (milter-manager's Sendmail default). Deriving it from Postfix's process limit is the caller's job;
   * a function is read at each connect, so a threshold learnt in the background applies once known.
   */
  stressThreshold?: number | (() => number);
}

const FACTORIES: Readonly<Record<BuiltinConditionName, (o: BuiltinConditionOptions) => Condition>> = {
  S25R: (o) => createS25r(o.s25r),
  'Remote Network': (o) => createRemoteNetwork(o.remoteNetwork),
  Authenticated: () => createAuthenticated(),
  Unauthenticated: () => createUnauthenticated(),
  Trust: (o) => createTrust(o.trust),
  'Stress Notify': (o) => createStressNotify({ threshold: o.stressThreshold ?? 0 }),
  'No Stress': (o) => createNoStress({ threshold: o.stressThreshold ?? 0 }),
};

/** The canonical spelling of a built-in condition name (matched case-insensitively), or undefined. */
export function builtinConditionName(name: string): BuiltinConditionName | undefined {
  const lower = name.toLowerCase();
  return BUILTIN_CONDITION_NAMES.find((n) => n.toLowerCase() === lower);
}

/** True when `name` is a built-in condition name in any letter case. */
export function isBuiltinConditionName(name: string): boolean {
  return builtinConditionName(name) !== undefined;
}

/** Creates a fresh built-in condition; throws for unknown names, suggesting near misses. */
export function createBuiltinCondition(name: string, options: BuiltinConditionOptions = {}): Condition {
  const canonical = builtinConditionName(name);
  if (canonical === undefined) throw new Error(unknownConditionMessage(name));
  return FACTORIES[canonical](options);
}

function unknownConditionMessage(name: string): string {
  const known = BUILTIN_CONDITION_NAMES.join(', ');
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const n of BUILTIN_CONDITION_NAMES) {
    const distance = levenshtein(lower, n.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name: n, distance };
  }
  const hint = best ? `; did you mean "${best.name}"?` : '';
  return `unknown condition "${name}"; known: ${known}${hint}`;
}

/** Edit distance (insert, delete, substitute), for "did you mean" on typos like "Remote_Network". */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, substitute));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
