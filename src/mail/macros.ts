/**
 * The MTA's macros ({client_addr}, i, {auth_authen}, ...) as a filter reads them, and the lists of
 * names a filter asks the MTA for. The milter macro store implements the reading side; the chain
 * lays each child's own macros over it.
 */
import type { MacroStage } from './stage.js';

/** Read access to the macros the MTA has sent so far in this session. */
export interface Macros {
  /** Looks a macro up by name; `x` and `{x}` find the same macro. Newer stages win. */
  get(name: string): string | undefined;
  /** Every macro currently visible, later stages overriding earlier ones; names as the MTA sent them. */
  all(): Record<string, string>;
  /** The pairs the MTA sent for one stage, as sent (to forward them to another milter). */
  forStage(stage: MacroStage): readonly (readonly [string, string])[];
}

/** Macro names a filter asks the MTA to send, per stage. An absent stage keeps the MTA's defaults. */
export type MacroRequest = Partial<Record<Exclude<MacroStage, 'unknown'>, readonly string[]>>;

/** `{name}` and `name` are the same macro; single letters go bare, longer names in braces. */
export function canonicalMacroName(name: string): string {
  const bare = name.startsWith('{') && name.endsWith('}') ? name.slice(1, -1) : name;
  return bare.length === 1 ? bare : `{${bare}}`;
}

export const NO_MACROS: Macros = Object.freeze({
  get: () => undefined,
  all: () => ({}),
  forStage: () => [],
});
