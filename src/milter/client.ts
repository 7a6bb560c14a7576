/** MilterClient: a remote milter behind the Filter interface (what an MTA or the chain drives). */
import type { Filter } from '../mail/filter.js';
import { silentLogger, type Logger } from '../mail/logger.js';
import { ClientSession } from './client-session.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from './client-transport.js';
import { formatConnectionSpec, parseConnectionSpec, type ConnectionSpec } from './spec.js';

export interface MilterClientOptions {
  readonly spec: string | ConnectionSpec;
  /** Shown in errors and logs; default the spec. */
  readonly name?: string;
  /** Seconds; defaults are milter-manager's 297 / 7 / 7 / 297. */
  readonly timeouts?: Partial<Timeouts>;
  readonly logger?: Logger;
}

/**
 * Each open() is one milter connection: negotiate() connects and negotiates with the offer it is
 * given (FULL_OFFER for a Postfix-like MTA). Failures throw MilterClientError with the failure kind.
 */
export class MilterClient implements Filter {
  readonly name: string;
  private readonly spec: ConnectionSpec;
  private readonly timeouts: Timeouts;
  private readonly logger: Logger;

  constructor(options: MilterClientOptions) {
    this.spec = typeof options.spec === 'string' ? parseConnectionSpec(options.spec) : options.spec;
    this.name = options.name ?? formatConnectionSpec(this.spec);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.logger = options.logger ?? silentLogger;
  }

  open(): ClientSession {
    return new ClientSession({ name: this.name, spec: this.spec, timeouts: this.timeouts, logger: this.logger });
  }
}
