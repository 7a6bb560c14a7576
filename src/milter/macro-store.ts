/** Filter-side macro storage with libmilter's semantics. */
import { canonicalMacroName, type Macros } from '../mail/macros.js';
import type { MacroStage } from '../mail/stage.js';
import { Command } from './constants.js';

/** Slot per macro stage, oldest first; lookups go newest to oldest. */
const SLOT: Partial<Record<number, number>> = {
  [Command.CONNECT]: 0,
  [Command.HELO]: 1,
  [Command.MAIL]: 2,
  [Command.RCPT]: 3,
  [Command.DATA]: 4,
  [Command.EOH]: 5,
  [Command.HEADER]: 5, // Postfix sends header macros under 'L': they belong to the EOH list
  [Command.BODYEOB]: 6,
  [Command.BODY]: 6, // and body macros under 'B': the EOM list
  [Command.UNKNOWN]: 7,
};
const STAGE_SLOT: Record<MacroStage, number> = {
  connect: 0,
  helo: 1,
  mail: 2,
  rcpt: 3,
  data: 4,
  endOfHeaders: 5,
  endOfMessage: 6,
  unknown: 7,
};
const SLOTS = 8;
/** A CONNECT, HELO, MAIL or RCPT packet clears every later stage, UNKNOWN's stale values too. */
const CLEARS_LATER = 4;

type Pairs = readonly (readonly [string, string])[];

export class MacroStore implements Macros {
  private readonly slots: (Pairs | undefined)[] = new Array<Pairs | undefined>(SLOTS);
  private readonly index: (Map<string, string> | undefined)[] = new Array<Map<string, string> | undefined>(SLOTS);

  /** Returns false for a stage byte that has no macro slot (the packet is then ignored). */
  set(stageCommand: number, pairs: Pairs): boolean {
    const slot = SLOT[stageCommand];
    if (slot === undefined) return false;
    if (slot < CLEARS_LATER) {
      for (let i = slot + 1; i < SLOTS; i++) {
        this.slots[i] = undefined;
        this.index[i] = undefined;
      }
    }
    this.slots[slot] = pairs;
    this.index[slot] = undefined;
    return true;
  }

  /** Forgets the macros of the message stages (after end of message or abort). */
  clearMessage(): void {
    for (let i = 2; i < SLOTS; i++) {
      this.slots[i] = undefined;
      this.index[i] = undefined;
    }
  }

  clearAll(): void {
    this.slots.fill(undefined);
    this.index.fill(undefined);
  }

  get(name: string): string | undefined {
    const key = canonicalMacroName(name);
    for (let i = SLOTS - 1; i >= 0; i--) {
      const pairs = this.slots[i];
      if (pairs === undefined || pairs.length === 0) continue;
      let idx = this.index[i];
      if (idx === undefined) {
        idx = new Map(pairs.map(([n, v]) => [canonicalMacroName(n), v]));
        this.index[i] = idx;
      }
      const v = idx.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  all(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const pairs of this.slots) for (const [n, v] of pairs ?? []) out[n] = v;
    return out;
  }

  /** The pairs the MTA sent for one stage, as sent (for forwarding them to another milter). */
  forStage(stage: MacroStage): Pairs {
    return this.slots[STAGE_SLOT[stage]] ?? [];
  }
}
