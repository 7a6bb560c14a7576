/**
 * INTERIM — ConnectionCounter and AuthFailures as src/smtp/client-limits.ts has them, which the POP3 work
 * moves to src/mail/client-limits.ts (imap/ may not import smtp/). Until that is on main, these small local
 * copies with the same shapes; at integration, import the mail/ ones instead and delete this file.
 */

/** Concurrent connections per key (client address, or user + address). */
export class ConnectionCounter {
  private readonly counts = new Map<string, number>();

  /** Counts a new connection; false (not counted) when the key already has `limit` (0: no limit). */
  open(key: string, limit: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (limit > 0 && n >= limit) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  close(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** Failed logins per client address, forgotten `forgetMs` after the last one; each one adds `stepMs` of delay. */
export class AuthFailures {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly stepMs = 1000,
    private readonly maxDelayMs = 30_000,
    private readonly forgetMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

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
