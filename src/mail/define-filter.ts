import { capabilitiesFor, type Wants } from './capabilities.js';
import type { Filter, FilterSession } from './filter.js';

export type StageHandlers = Omit<FilterSession, 'negotiate'>;

/**
 * An in-process filter from what it wants and a per-connection handler factory: the negotiation is
 * derived from `wants`, limited to what the MTA offers.
 */
export function defineFilter(name: string, wants: Wants, session: () => StageHandlers): Filter {
  return {
    name,
    open(): FilterSession {
      const handlers = session();
      return Object.assign(Object.create(handlers) as FilterSession, {
        negotiate: (offer: Parameters<FilterSession['negotiate']>[0]) => capabilitiesFor(offer, wants),
      });
    },
  };
}
