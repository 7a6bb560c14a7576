/**
 * Per-client-address limits every server shares (SMTP, IMAP, POP3), as Postfix's anvil keeps them: concurrent
 * connections, and failed logins, which slow the address down (each later attempt from it waits longer) as
 * Postfix's smtpd_error_sleep_time does for a client that keeps failing. In mail/ because services may not
 * import each other. In memory: the counts are per process.
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

/** Failed logins (AUTH, PASS, LOGIN) per client address, forgotten `forgetMs` after the last one. */
export class AuthFailures {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    /** The delay before answering a login, per earlier failure of the address (capped at maxDelayMs). */
    private readonly stepMs = 1000,
    private readonly maxDelayMs = 30_000,
    private readonly forgetMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** How long to wait before answering this address's next login. */
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
