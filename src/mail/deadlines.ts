/**
 * Timeouts checked by one coarse shared timer rather than a Node timer each: a timer armed and
 * cleared per request (a clamd scan, a built-in child's stage) cost as much as all the rest of the
 * work for a small message (bench:filters). A deadline fires within TICK_MS after it passes, which
 * is nothing next to timeouts of seconds.
 */
export const TICK_MS = 25;

/** Now, on the clock deadlines use. */
export function monotonicNow(): number {
  return performance.now();
}

export interface Expiring {
  /** When it expires, on the monotonic clock (performance.now(), ms): a stepped wall clock moves no deadline. */
  deadline: number;
  expire(): void;
}

const watched = new Set<Expiring>();
let timer: NodeJS.Timeout | undefined;

/** Checks `item` until `unwatch`; its `deadline` may be moved meanwhile. */
export function watch(item: Expiring): void {
  watched.add(item);
  if (timer === undefined) {
    timer = setInterval(check, TICK_MS);
    timer.unref(); // what is being waited for keeps the process alive, not its timeout
  }
}

export function unwatch(item: Expiring): void {
  watched.delete(item);
}

function check(): void {
  const now = performance.now();
  for (const item of watched) {
    if (item.deadline > now) continue;
    watched.delete(item);
    try {
      item.expire();
    } catch (err) {
      // One broken expire() must neither stop the others nor escape the timer (an uncaught exception).
      process.emitWarning(`a deadline's expire() threw: ${(err as Error).message}`);
    }
  }
  if (watched.size === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}
