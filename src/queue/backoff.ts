import { DEFAULT_QUEUE } from '../config/defaults.js';

/**
 * The scheduler's timing, Postfix's qmgr parameters camelCased, in milliseconds so tests can shrink them,
 * and the back-off: the first retry after minimal_backoff_time, then doubling, capped at
 * maximal_backoff_time (Postfix's documented behaviour).
 */
export interface QueueTiming {
  /** minimal_backoff_time: 300 s. */
  readonly minimalBackoffTime: number;
  /** maximal_backoff_time: 4000 s. */
  readonly maximalBackoffTime: number;
  /** maximal_queue_lifetime: 5 d; then a deferred recipient is bounced. */
  readonly maximalQueueLifetime: number;
  /** bounce_queue_lifetime: 5 d, for mail from <> (DSNs), which is never bounced. */
  readonly bounceQueueLifetime: number;
  /** delay_warning_time: 0 = no delay warnings. */
  readonly delayWarningTime: number;
  /** queue_run_delay: 300 s between scans for deferred mail that is due. */
  readonly queueRunDelay: number;
}

/** Postfix's defaults, kept once in config/defaults.ts (in seconds, as the [queue] section), in milliseconds. */
export const DEFAULT_TIMING: QueueTiming = timingFromSeconds(DEFAULT_QUEUE);

/** How long to wait after the `attempts`-th failed attempt (1 = the first). */
export function backoffDelay(attempts: number, t: Pick<QueueTiming, 'minimalBackoffTime' | 'maximalBackoffTime'>): number {
  const doubled = t.minimalBackoffTime * 2 ** Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(Math.max(doubled, t.minimalBackoffTime), Math.max(t.maximalBackoffTime, t.minimalBackoffTime));
}

/** The [queue] section's values (seconds, as Postfix's parameters and the configuration file) in milliseconds. */
export function timingFromSeconds(seconds: QueueTiming): QueueTiming {
  return {
    minimalBackoffTime: seconds.minimalBackoffTime * 1000,
    maximalBackoffTime: seconds.maximalBackoffTime * 1000,
    maximalQueueLifetime: seconds.maximalQueueLifetime * 1000,
    bounceQueueLifetime: seconds.bounceQueueLifetime * 1000,
    delayWarningTime: seconds.delayWarningTime * 1000,
    queueRunDelay: seconds.queueRunDelay * 1000,
  };
}
