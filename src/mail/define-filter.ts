/**
 * The short way to write an in-process filter: stage handlers and what it wants, the negotiation
 * derived from them. The built-in filters and the tests use it rather than implementing
 * FilterSession's negotiation by hand.
 */
import { capabilitiesFor, type Wants } from './capabilities.js';
import type { Filter, FilterSession } from './filter.js';
import { EVENT_STAGES, type EventStage } from './stage.js';

export type StageHandlers = Omit<FilterSession, 'negotiate'>;

/**
 * The stages a set of handlers answers, as libmilter derives its NO_* flags from the callbacks
 * registered: the MTA is not asked to send what nobody reads. End of message is always sent.
 */
export function handledStages(handlers: StageHandlers): EventStage[] {
  return EVENT_STAGES.filter((stage) => stage === 'endOfMessage' || typeof handlers[stage] === 'function');
}

/**
 * An in-process filter from what it wants and a per-connection handler factory: the negotiation is
 * derived from `wants`, limited to what the MTA offers. Without `wants.stages`, the filter asks for
 * the stages it has handlers for.
 */
export function defineFilter(name: string, wants: Wants, session: () => StageHandlers): Filter {
  // The same offer object (MilterServer shares it per set of bits) gets the same answer.
  const answers = new WeakMap<Parameters<FilterSession['negotiate']>[0], ReturnType<typeof capabilitiesFor>>();
  let derived: Wants | undefined = wants.stages !== undefined ? wants : undefined;
  return {
    name,
    open(): FilterSession {
      const handlers = session();
      // Every session of a filter has the same handlers; the first one decides.
      derived ??= { ...wants, stages: handledStages(handlers) };
      const effective = derived;
      const negotiate = (offer: Parameters<FilterSession['negotiate']>[0]) => {
        let caps = answers.get(offer);
        if (caps === undefined) answers.set(offer, (caps = capabilitiesFor(offer, effective)));
        return caps;
      };
      // A plain object is copied: Object.create() on a fresh object per session is slow (V8 turns
      // it into a prototype) and makes every stage lookup in ServerConnection polymorphic.
      if (Object.getPrototypeOf(handlers) === Object.prototype) return { ...handlers, negotiate };
      return Object.assign(Object.create(handlers) as FilterSession, { negotiate });
    },
  };
}
