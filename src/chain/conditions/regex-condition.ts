/**
 * User-defined conditions from the configuration: test one field of the session against a regular
 * expression and either apply the child only on a match ('apply') or skip it on a match ('skip').
 * Covers what milter-manager users write small Ruby stoppers for (e.g. "only for mail to @example.com",
 * "not for hosts under .internal").
 */
import { canonicalMacroName, type MacroRequest } from '../../mail/macros.js';
import { APPLY, STOP, type Condition, type ConditionContext, type ConditionStage } from '../condition.js';

export type RegexConditionField = 'host' | 'address' | 'helo' | 'sender' | 'recipient' | 'macro';
export type RegexConditionAction = 'apply' | 'skip';

export interface RegexConditionOptions {
  name: string;
  description?: string;
  field: RegexConditionField;
  /** The macro to test when field is 'macro'; "x" and "{x}" are the same. */
  macro?: string;
  /** JavaScript regular expression source, e.g. "@example\\.com>$". */
  pattern: string;
  /** RegExp flags, e.g. "i". g and y are ignored (they would make repeated tests disagree). */
  flags?: string;
  action: RegexConditionAction;
}

const MACRO_FIELD_STAGES = ['connect', 'helo', 'mail', 'rcpt'] as const satisfies readonly ConditionStage[];

const FIELD_STAGES: Readonly<Record<RegexConditionField, readonly ConditionStage[]>> = {
  host: ['connect'],
  address: ['connect'],
  helo: ['helo'],
  sender: ['mail'],
  recipient: ['rcpt'],
  // Macros arrive at different stages (e.g. {auth_type} at MAIL, {rcpt_mailer} at RCPT), so a macro
  // condition is asked at every envelope stage up to RCPT. While the macro is unset or empty it stays
  // undecided (applies), so an early stage cannot stop the child for the session before the macro arrives.
  // Each stage where it is set re-checks the current value (newer stages win in ctx.macros); at RCPT,
  // the last stage asked, an unset macro is tested as "". A stop counts as usual for the stage it
  // happens at: connect/helo for the session, mail for the message, rcpt for that recipient.
  macro: MACRO_FIELD_STAGES,
};

const LAST_MACRO_STAGE: ConditionStage = 'rcpt';

/** The value of `field` the condition tests; undefined when the session does not have it. */
function fieldValue(field: Exclude<RegexConditionField, 'macro'>, ctx: ConditionContext): string | undefined {
  switch (field) {
    case 'host':
      return ctx.connection?.hostname;
    case 'address':
      // The IP address; for a UNIX-socket client its socket path.
      return ctx.connection?.address ?? ctx.connection?.path;
    case 'helo':
      return ctx.helo;
    case 'sender':
      return ctx.sender;
    case 'recipient':
      return ctx.recipient;
  }
}

export function createRegexCondition(options: RegexConditionOptions): Condition {
  const { name, field, action } = options;
  const label = `condition "${String(name)}"`;
  if (typeof name !== 'string' || name.trim() === '') throw new Error('condition: a name is required');
  if (!Object.hasOwn(FIELD_STAGES, field)) {
    throw new Error(`${label}: unknown field "${String(field)}"; expected one of ${Object.keys(FIELD_STAGES).join(', ')}`);
  }
  if (action !== 'apply' && action !== 'skip') {
    throw new Error(`${label}: unknown action "${String(action)}"; expected apply or skip`);
  }
  const macro = options.macro;
  if (field === 'macro' && (typeof macro !== 'string' || macro.replace(/^\{|\}$/g, '') === '')) {
    throw new Error(`${label}: field "macro" needs the name of the macro to test`);
  }
  if (typeof options.pattern !== 'string') throw new Error(`${label}: pattern must be a string`);
  let re: RegExp;
  try {
    re = new RegExp(options.pattern, (options.flags ?? '').replace(/[gy]/g, ''));
  } catch (e) {
    throw new Error(`${label}: invalid regex /${options.pattern}/${options.flags ?? ''}: ${(e as Error).message}`);
  }
  const stages: ReadonlySet<ConditionStage> = new Set(FIELD_STAGES[field]);
  // The macro is read at every stage the condition is asked at, so it is asked for at each of them.
  const readsMacros: MacroRequest =
    field === 'macro' ? Object.fromEntries(MACRO_FIELD_STAGES.map((s) => [s, [canonicalMacroName(macro!)]])) : {};
  const verdict = (value: string) => (re.test(value) === (action === 'apply') ? APPLY : STOP);
  return {
    name,
    description:
      options.description ??
      `${action === 'apply' ? 'Apply' : 'Skip'} milter when ${field === 'macro' ? `macro ${macro}` : field} matches /${options.pattern}/${options.flags ?? ''}`,
    stages,
    readsMacros,
    check(stage, ctx) {
      if (!stages.has(stage)) return APPLY;
      if (field === 'macro') {
        // An empty value counts as unset: MTAs send empty values for macros they have nothing for yet.
        const value = ctx.macros.get(macro ?? '') ?? '';
        if (value === '' && stage !== LAST_MACRO_STAGE) return APPLY;
        return verdict(value);
      }
      return verdict(fieldValue(field, ctx) ?? '');
    },
  };
}
