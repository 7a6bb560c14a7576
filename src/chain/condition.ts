/**
 * Applicable conditions (milter-manager's "stoppers"): before a stage is forwarded to a child, each
 * of the child's conditions may stop it (the child is then not applied) or set macros for it.
 * A child is stopped when any stopper of any of its conditions says stop.
 */
import type { ConnectionInfo } from '../mail/connection.js';
import type { MacroRequest, Macros } from '../mail/macros.js';
import type { EventStage } from '../mail/stage.js';

/** The stages a condition can act at (milter-manager's stopper stages). */
export type ConditionStage = Exclude<EventStage, 'unknown'>;

/** What a condition can see of the session when asked. Fields appear as the session advances. */
export interface ConditionContext {
  readonly connection?: ConnectionInfo;
  readonly helo?: string;
  /** MAIL FROM as the client sent it, e.g. "<user@example.com>" or "<>". */
  readonly sender?: string;
  /** The recipient being decided, at rcpt. */
  readonly recipient?: string;
  /** Every recipient so far in this message (after rcpt). */
  readonly recipients: readonly string[];
  /** The header being passed, at header. */
  readonly header?: { readonly name: string; readonly value: string };
  readonly macros: Macros;
  /** SMTP sessions in progress on this manager now, this one included. */
  readonly concurrentSessions: number;
}

export interface ConditionVerdict {
  /** True: do not apply the child (at connect/helo for the session, at mail for the message, at rcpt for that recipient). */
  readonly stop: boolean;
  /** Macros set for this child only, sent with the current stage (e.g. {trusted_domain}=yes). */
  readonly macros?: Readonly<Record<string, string>>;
}

export const APPLY: ConditionVerdict = Object.freeze({ stop: false });
export const STOP: ConditionVerdict = Object.freeze({ stop: true });

export interface Condition {
  /** The name used in `applicable_conditions`, e.g. "S25R", "Remote Network". */
  readonly name: string;
  readonly description: string;
  /** The stages this condition acts at; it is not asked at others. */
  readonly stages: ReadonlySet<ConditionStage>;
  /**
   * The MTA macros it reads, per stage. Where the children replace the MTA's default macro list at a
   * stage, the chain adds these to the list it asks for, or the MTA would stop sending them.
   */
  readonly readsMacros?: MacroRequest;
  check(stage: ConditionStage, ctx: ConditionContext): ConditionVerdict;
}
