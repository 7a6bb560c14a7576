/** [queue]: retry timings with Postfix's names and defaults, in seconds. */
import { DEFAULT_QUEUE } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { QueueConfig } from '../schema.js';

export const QUEUE_KEYS = [
  'minimal_backoff_time',
  'maximal_backoff_time',
  'maximal_queue_lifetime',
  'bounce_queue_lifetime',
  'delay_warning_time',
  'queue_run_delay',
] as const;

export function readQueue(r: TableReader): QueueConfig {
  r.checkKeys(QUEUE_KEYS);
  const d = DEFAULT_QUEUE;
  const queue: QueueConfig = {
    minimalBackoffTime: r.seconds('minimal_backoff_time') ?? d.minimalBackoffTime,
    maximalBackoffTime: r.seconds('maximal_backoff_time') ?? d.maximalBackoffTime,
    // 0: one attempt, then the bounce (as in Postfix).
    maximalQueueLifetime: r.secondsOrZero('maximal_queue_lifetime') ?? d.maximalQueueLifetime,
    bounceQueueLifetime: r.secondsOrZero('bounce_queue_lifetime') ?? d.bounceQueueLifetime,
    delayWarningTime: r.secondsOrZero('delay_warning_time') ?? d.delayWarningTime,
    queueRunDelay: r.seconds('queue_run_delay') ?? d.queueRunDelay,
  };
  if (queue.minimalBackoffTime > queue.maximalBackoffTime) {
    // Postfix only warns and uses the larger; a file that says two contradictory things is refused here.
    const key = r.has('minimal_backoff_time') ? 'minimal_backoff_time' : 'maximal_backoff_time';
    throw r.error(key, `minimal_backoff_time (${queue.minimalBackoffTime}) is longer than maximal_backoff_time (${queue.maximalBackoffTime})`);
  }
  return queue;
}
