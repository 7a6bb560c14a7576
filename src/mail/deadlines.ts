/**
 * Timeouts checked by one coarse shared timer rather than a Node timer each: a timer armed and
 * cleared per request (a clamd scan, a built-in child's stage) cost as much as all the rest of the
 * work for a small message (bench:filters). A deadline fires within TICK_MS after it passes, which
 * is nothing next to timeouts of seconds.
 */
export const TICK_MS = 25;

export interface Expiring {
  /** When it expires (ms since the epoch, as Date.now()). */
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
  const now = Date.now();
  for (const item of watched) {
    if (item.deadline > now) continue;
    watched.delete(item);
    item.expire();
  }
  if (watched.size === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}
