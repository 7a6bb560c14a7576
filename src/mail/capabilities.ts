/**
 * The milter negotiation in TypeScript terms: what a modern MTA offers, and a filter's wishes cut
 * down to an offer by libmilter's rules. Every in-process filter negotiates through this, so a
 * built-in filter behaves like a remote milter whichever MTA or chain drives it.
 */
import type { Action, Capabilities } from './filter.js';
import { ALL_ACTIONS } from './filter.js';
import type { EventStage } from './stage.js';
import { EVENT_STAGES } from './stage.js';

/** What a modern MTA (Postfix 3, Sendmail 8.14+) offers: version 6, every action and every event. */
export const FULL_OFFER: Capabilities = Object.freeze({
  version: 6,
  actions: new Set<Action>(ALL_ACTIONS),
  stages: new Set<EventStage>(EVENT_STAGES),
  noReply: new Set<EventStage>(EVENT_STAGES.filter((s) => s !== 'endOfMessage')),
  skip: true,
  rejectedRecipients: true,
  leadingSpace: true,
  maxDataSize: 65535,
  macros: {},
});

export interface Wants {
  actions?: Iterable<Action>;
  /** Events wanted; default every event. */
  stages?: Iterable<EventStage>;
  noReply?: Iterable<EventStage>;
  skip?: boolean;
  rejectedRecipients?: boolean;
  leadingSpace?: boolean;
  macros?: Capabilities['macros'];
}

/**
 * Builds what a filter asks for, limited to what the MTA offered (libmilter's rules: never more
 * than offered; the version is the lower of both).
 */
export function capabilitiesFor(offer: Capabilities, wants: Wants): Capabilities {
  const keep = <T>(want: Iterable<T> | undefined, offered: ReadonlySet<T>, all: readonly T[]): Set<T> =>
    new Set([...(want ?? all)].filter((x) => offered.has(x)));
  const actions = keep(wants.actions, offer.actions, []);
  const hasMacros = wants.macros !== undefined && Object.keys(wants.macros).length > 0;
  if (hasMacros && offer.actions.has('setMacroLists')) actions.add('setMacroLists');
  return {
    version: Math.min(6, offer.version),
    actions,
    stages: keep(wants.stages, offer.stages, EVENT_STAGES),
    // Kept as declared: where the MTA cannot skip waiting, the milter server answers continue itself.
    noReply: new Set(wants.noReply ?? []),
    skip: (wants.skip ?? false) && offer.skip,
    rejectedRecipients: (wants.rejectedRecipients ?? false) && offer.rejectedRecipients,
    leadingSpace: (wants.leadingSpace ?? false) && offer.leadingSpace,
    maxDataSize: 65535,
    macros: actions.has('setMacroLists') ? (wants.macros ?? {}) : {},
  };
}
