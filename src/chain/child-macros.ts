/** The MTA's macros as one child sees them: plus what its conditions set for it (e.g. {trusted_domain}). */
import { canonicalMacroName, type Macros } from '../mail/macros.js';
import type { MacroStage } from '../mail/stage.js';

export class ChildMacros implements Macros {
  private readonly extra = new Map<MacroStage, [string, string][]>();

  constructor(private readonly base: Macros) {}

  /** Sets macros for one stage; they are sent with that stage and visible from then on. */
  set(stage: MacroStage, values: Readonly<Record<string, string>>): void {
    const list = this.extra.get(stage) ?? [];
    for (const [name, value] of Object.entries(values)) {
      const key = canonicalMacroName(name);
      const i = list.findIndex(([n]) => canonicalMacroName(n) === key);
      if (i === -1) list.push([key, value]);
      else list[i] = [key, value];
    }
    this.extra.set(stage, list);
  }

  /** Forgets what conditions set for the message stages. */
  clearMessage(): void {
    for (const s of ['mail', 'rcpt', 'data', 'endOfHeaders', 'endOfMessage'] as const) this.extra.delete(s);
  }

  get(name: string): string | undefined {
    const key = canonicalMacroName(name);
    for (const list of [...this.extra.values()].reverse()) {
      const hit = list.find(([n]) => n === key);
      if (hit) return hit[1];
    }
    return this.base.get(name);
  }

  all(): Record<string, string> {
    const out = this.base.all();
    for (const list of this.extra.values()) for (const [n, v] of list) out[n] = v;
    return out;
  }

  forStage(stage: MacroStage): readonly (readonly [string, string])[] {
    const extra = this.extra.get(stage);
    const base = this.base.forStage(stage);
    if (!extra || extra.length === 0) return base;
    const names = new Set(extra.map(([n]) => n));
    return [...base.filter(([n]) => !names.has(canonicalMacroName(n))), ...extra];
  }
}
