/** What every built-in filter receives besides its options: logging, state, time and DNS, all injectable. */
import type { Logger } from '../mail/logger.js';
import type { DnsResolver } from './shared/dns.js';
import type { SpfChecker } from './shared/spf.js';

export interface FilterContext {
  /** Already bound to the child (`child: NAME`). */
  readonly logger: Logger;
  /** Directory for the filter's state (created when needed); absolute. */
  readonly dataDir: string;
  /** Milliseconds since the epoch; tests move it to run greylist delays without waiting. */
  readonly now: () => number;
  readonly resolver: DnsResolver;
  /** SPF, shared by every filter of this chain (cached per client/HELO/sender). */
  readonly spf: SpfChecker;
}
