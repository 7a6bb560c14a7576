/** The queue service's entry for cli/start.ts (the one place that wires the services together). */
export { openQueue, type Queue, type QueueOptions } from './open.js';
export { DEFAULT_TIMING, timingFromSeconds, type QueueTiming } from './backoff.js';
