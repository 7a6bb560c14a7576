/** Names usable in `applicable_conditions`: the built-in conditions and the [[condition]] names. */
import { closest } from './suggest.js';

export const BUILTIN_CONDITIONS = [
  'S25R',
  'Remote Network',
  'Authenticated',
  'Unauthenticated',
  'Trust',
  'Stress Notify',
  'No Stress',
] as const;

export type BuiltinConditionName = (typeof BUILTIN_CONDITIONS)[number];

/** Case-insensitive lookup from any spelling to the canonical name. */
export class ConditionNames {
  private readonly byLower = new Map<string, string>();

  constructor(userNames: readonly string[] = []) {
    for (const name of [...BUILTIN_CONDITIONS, ...userNames]) this.byLower.set(name.toLowerCase(), name);
  }

  /** The canonical name, or undefined when unknown. */
  resolve(name: string): string | undefined {
    return this.byLower.get(name.toLowerCase());
  }

  /** Why `name` is unknown, with a suggestion or the list of known names. */
  unknown(name: string): string {
    const known = [...this.byLower.values()];
    const guess = closest(name, known);
    if (guess !== undefined) return `unknown condition ${JSON.stringify(name)}; did you mean ${JSON.stringify(guess)}?`;
    return `unknown condition ${JSON.stringify(name)} (known: ${known.join(', ')})`;
  }
}

export function isBuiltinCondition(name: string): boolean {
  const lower = name.toLowerCase();
  return BUILTIN_CONDITIONS.some((b) => b.toLowerCase() === lower);
}
