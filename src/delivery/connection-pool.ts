/**
 * Per-destination limits and connection reuse, as Postfix's qmgr and scache do: at most N deliveries at
 * once to one destination (destination_concurrency_limit, default 20), so one slow domain never takes every
 * slot; and connections kept open for a few seconds after a delivery (ready for a new MAIL), so a burst of mail to one
 * destination shares a few sessions instead of opening one each.
 */
import type { SmtpClient } from './smtp-client.js';

/** Postfix's smtp_connection_cache_time_limit: an idle cached connection is closed after 2 s. */
export const DEFAULT_IDLE_MS = 2000;
/** Postfix's smtp_connection_reuse_time_limit: a connection is not reused after 300 s. */
export const REUSE_TIME_LIMIT_MS = 300_000;

/** A counting semaphore per destination; waiters are served in arrival order. */
export class DestinationLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly limit: number) {}

  /** Resolves with the release function once a slot for `key` is free. */
  async acquire(key: string): Promise<() => void> {
    const n = this.active.get(key) ?? 0;
    if (n < this.limit) {
      this.active.set(key, n + 1);
    } else {
      await new Promise<void>((resolve) => {
        const list = this.waiting.get(key) ?? [];
        list.push(resolve);
        this.waiting.set(key, list);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(key)?.shift();
      if (next !== undefined) {
        next(); // the slot passes straight to the next waiter
        return;
      }
      if (this.waiting.get(key)?.length === 0) this.waiting.delete(key);
      const left = (this.active.get(key) ?? 1) - 1;
      if (left <= 0) this.active.delete(key);
      else this.active.set(key, left);
    };
  }

  /** Deliveries in progress to `key` (for tests and the log). */
  inUse(key: string): number {
    return this.active.get(key) ?? 0;
  }
}

interface Idle {
  readonly client: SmtpClient;
  readonly timer: NodeJS.Timeout;
}

/** Idle connections per destination, each closed (QUIT) when unused for `idleMs`. */
export class ConnectionCache {
  private readonly idle = new Map<string, Idle[]>();
  private closed = false;

  constructor(
    private readonly idleMs: number = DEFAULT_IDLE_MS,
    private readonly maxAgeMs: number = REUSE_TIME_LIMIT_MS,
  ) {}

  /** A live idle connection to `key`, if any (most recently used first). */
  take(key: string): SmtpClient | undefined {
    const list = this.idle.get(key);
    while (list !== undefined && list.length > 0) {
      const entry = list.pop() as Idle;
      clearTimeout(entry.timer);
      if (entry.client.alive) return entry.client;
      entry.client.close();
    }
    this.idle.delete(key);
    return undefined;
  }

  /** Keeps a connection (ready for a new MAIL) for the next delivery to `key`, or QUITs it when too old or closing. */
  put(key: string, client: SmtpClient): void {
    if (this.closed || !client.alive || Date.now() - client.openedAt > this.maxAgeMs) {
      client.quit();
      return;
    }
    const timer = setTimeout(() => {
      const list = this.idle.get(key) ?? [];
      const at = list.findIndex((e) => e.client === client);
      if (at !== -1) list.splice(at, 1);
      if (list.length === 0) this.idle.delete(key);
      client.quit();
    }, this.idleMs);
    timer.unref();
    const list = this.idle.get(key) ?? [];
    list.push({ client, timer });
    this.idle.set(key, list);
  }

  /** Idle connections right now (for tests). */
  size(key?: string): number {
    if (key !== undefined) return this.idle.get(key)?.length ?? 0;
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** QUITs every idle connection; later put()s QUIT at once. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) {
      for (const entry of list) {
        clearTimeout(entry.timer);
        entry.client.quit();
      }
    }
    this.idle.clear();
  }
}
