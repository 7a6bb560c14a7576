/**
 * The filter the manager serves: it opens sessions on the current chain, so a reload (SIGHUP)
 * swaps the chain for new sessions while sessions in flight finish on the chain they started with.
 */
import type { Filter, FilterSession } from '../mail/filter.js';
import type { Chain } from './chain.js';

export class ReloadableChain implements Filter {
  readonly name = 'manager';

  constructor(private current: Chain) {}

  get chain(): Chain {
    return this.current;
  }

  get passThrough(): boolean {
    return this.current.passThrough;
  }

  open(): FilterSession {
    return this.current.open();
  }

  replace(next: Chain): void {
    const old = this.current;
    this.current = next;
    old.dispose();
  }
}
