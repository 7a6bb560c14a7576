import { capabilitiesFor, type Wants } from './capabilities.js';
import type { Filter, FilterSession } from './filter.js';

export type StageHandlers = Omit<FilterSession, 'negotiate'>;

/**
 * An in-process filter from what it wants and a per-connection handler factory: the negotiation is
 * derived from `wants`, limited to what the MTA offers.
 */
export function defineFilter(name: string, wants: Wants, session: () => StageHandlers): Filter {
  // The same offer object (MilterServer shares it per set of bits) gets the same answer.
  const answers = new WeakMap<Parameters<FilterSession['negotiate']>[0], ReturnType<typeof capabilitiesFor>>();
  return {
    name,
    open(): FilterSession {
      const handlers = session();
      const negotiate = (offer: Parameters<FilterSession['negotiate']>[0]) => {
        let caps = answers.get(offer);
        if (caps === undefined) answers.set(offer, (caps = capabilitiesFor(offer, wants)));
        return caps;
      };
      // A plain object is copied: Object.create() on a fresh object per session is slow (V8 turns
      // it into a prototype) and makes every stage lookup in ServerConnection polymorphic.
      if (Object.getPrototypeOf(handlers) === Object.prototype) return { ...handlers, negotiate };
      return Object.assign(Object.create(handlers) as FilterSession, { negotiate });
    },
  };
}
