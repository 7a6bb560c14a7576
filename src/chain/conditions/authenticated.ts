/**
 * "Authenticated" / "Unauthenticated": apply the child only to SMTP-AUTH senders, or only to the
 * others (e.g. sign with DKIM only for authenticated users; spam-check only unauthenticated mail).
 * Decided at MAIL because that is when the MTA sends the auth macros (Postfix does by default; where
 * the children replace its MAIL list, the chain adds them, see readsMacros).
 */
import { APPLY, STOP, type Condition, type ConditionStage } from '../condition.js';
import type { MacroRequest, Macros } from '../../mail/macros.js';

const STAGES: ReadonlySet<ConditionStage> = new Set<ConditionStage>(['mail']);
const READS: MacroRequest = Object.freeze({ mail: Object.freeze(['{auth_type}', '{auth_authen}']) });

/** True when the MTA reports an SMTP AUTH mechanism or login name for this session. */
export function isAuthenticated(macros: Macros): boolean {
  return Boolean(macros.get('auth_type')) || Boolean(macros.get('auth_authen'));
}

export function createAuthenticated(): Condition {
  return {
    name: 'Authenticated',
    description: 'Apply a milter only when sender is authorized',
    stages: STAGES,
    readsMacros: READS,
    check: (stage, ctx) => (stage === 'mail' && !isAuthenticated(ctx.macros) ? STOP : APPLY),
  };
}

export function createUnauthenticated(): Condition {
  return {
    name: 'Unauthenticated',
    description: 'Apply a milter only when sender is not authorized',
    stages: STAGES,
    readsMacros: READS,
    check: (stage, ctx) => (stage === 'mail' && isAuthenticated(ctx.macros) ? STOP : APPLY),
  };
}
