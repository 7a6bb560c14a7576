/**
 * Per-client-address limits of the SMTP server, as Postfix's anvil keeps them: concurrent connections
 * (smtpd_client_connection_count_limit), messages per minute (smtpd_client_message_rate_limit), and failed
 * AUTH attempts, which slow the address down (each later AUTH from it waits longer) as Postfix's
 * smtpd_error_sleep_time does for a client that keeps failing. In memory: the counts are per process.
 */

/** Concurrent connections per client address. */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  /** Counts a new connection; false (not counted) when the address already has `limit` (0: no limit). */
  open(address: string, limit: number): boolean {
    const n = this.counts.get(address) ?? 0;
    if (limit > 0 && n >= limit) return false;
    this.counts.set(address, n + 1);
    return true;
  }

  close(address: string): void {
    const n = (this.counts.get(address) ?? 0) - 1;
    if (n <= 0) this.counts.delete(address);
    else this.counts.set(address, n);
  }

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }
}

/** Messages (MAIL commands) per client address in a sliding window, `limit` per `windowMs` (0: no limit). */
export class MessageRate {
  private readonly times = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts one message; false when the address is over its rate (the message is not counted). */
  take(address: string): boolean {
    if (this.limit <= 0) return true;
    const now = this.now();
    const recent = (this.times.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.times.set(address, recent);
      return false;
    }
    recent.push(now);
    this.times.set(address, recent);
    // Bounded: addresses with nothing recent are forgotten now and then.
    if (this.times.size > 10_000) for (const [a, ts] of this.times) if (ts.every((t) => now - t >= this.windowMs)) this.times.delete(a);
    return true;
  }
}

/** Failed AUTH attempts per client address, forgotten `forgetMs` after the last one. */
export class AuthFailures {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    /** The delay before answering an AUTH, per earlier failure of the address (capped at maxDelayMs). */
    private readonly stepMs = 1000,
    private readonly maxDelayMs = 30_000,
    private readonly forgetMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long to wait before answering this address's next AUTH. */
  delayMs(address: string): number {
    const f = this.current(address);
    return f ? Math.min(f.count * this.stepMs, this.maxDelayMs) : 0;
  }

  fail(address: string): void {
    const f = this.current(address) ?? { count: 0, last: 0 };
    this.failures.set(address, { count: f.count + 1, last: this.now() });
    if (this.failures.size > 10_000) for (const a of this.failures.keys()) if (!this.current(a)) this.failures.delete(a);
  }

  private current(address: string): { count: number; last: number } | undefined {
    const f = this.failures.get(address);
    if (f && this.now() - f.last >= this.forgetMs) {
      this.failures.delete(address);
      return undefined;
    }
    return f;
  }
}
