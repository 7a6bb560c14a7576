/** What the rules filter negotiates: only the stages and actions its configured rules need. */
import type { RuleField, RulesOptions } from '../../config/builtins/rules.js';
import type { Action } from '../../mail/filter.js';
import type { Wants } from '../../mail/capabilities.js';
import type { EventStage } from '../../mail/stage.js';

const STAGES_OF_FIELD: Record<RuleField, readonly EventStage[]> = {
  host: ['connect'],
  address: ['connect'],
  helo: ['helo'],
  sender: ['mail'],
  recipient: ['rcpt'],
  header: ['header', 'endOfHeaders'],
  // The body is decoded from the whole message (MIME headers included).
  body: ['header', 'body', 'endOfMessage'],
};

/** Fields evaluated before any message starts: their effects last for the whole connection. */
export const CONNECTION_FIELDS: ReadonlySet<RuleField> = new Set(['host', 'address', 'helo']);

export function wantsFor(options: RulesOptions): Wants {
  const stages = new Set<EventStage>();
  const actions = new Set<Action>();
  const scoring = options.scoreThreshold !== undefined && options.rules.some((r) => r.action.kind === 'score');
  for (const rule of options.rules) {
    for (const s of STAGES_OF_FIELD[rule.field]) stages.add(s);
    // MAIL starts a message: what message rules decided must not carry over to the next one.
    if (!CONNECTION_FIELDS.has(rule.field)) stages.add('mail');
    const kind = rule.action.kind;
    // Headers, quarantine and the score are applied at end of message.
    if (kind === 'add_header' || kind === 'quarantine') stages.add('endOfMessage');
    if (kind === 'add_header') actions.add('addHeader');
    if (kind === 'quarantine') actions.add('quarantine');
    // A connection-wide discard is answered at each MAIL.
    if (kind === 'discard' && CONNECTION_FIELDS.has(rule.field)) stages.add('mail');
  }
  if (scoring) {
    stages.add('endOfMessage');
    if (options.scoreAction.kind === 'add_header') actions.add('addHeader');
    if (options.scoreAction.kind === 'quarantine') actions.add('quarantine');
  }
  return { stages, actions };
}
