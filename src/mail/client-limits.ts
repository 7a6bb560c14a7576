/**
 * Per-client-address limits every server shares (SMTP, IMAP, POP3), as Postfix's anvil keeps them: concurrent
 * connections, and failed logins, which slow the address down (each later attempt from it waits longer) as
 * Postfix's smtpd_error_sleep_time does for a client that keeps failing. In mail/ because services may not
 * import each other. In memory: the counts are per process.
 */
import { penaltyKey } from './penalty-key.js';

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

/** Addresses (penalty keys) remembered at most: past it the least recently failed are forgotten first. */
export const MAX_TRACKED_FAILURES = 10_000;

interface Failure {
  count: number;
  last: number;
}

/**
 * Failed logins (AUTH, PASS, LOGIN) per client — its address, or its /48 for IPv6 (penalty-key.ts) —
 * forgotten `forgetMs` after the last one. The counts are shared between services (withStep; `mailgate
 * start` gives SMTP AUTH, IMAP and POP3 one): they take the same passwords, so one attacker must not get
 * thrice the tries by alternating (Dovecot's auth penalty, in its one auth process — also behind Postfix's
 * SASL — is per client across every protocol). At most `maxTracked`
 * clients are remembered, the least recently failed forgotten first, so a flood of addresses costs bounded
 * memory (Dovecot's anvil too keeps a bounded penalty table).
 */
export class AuthFailures {
  private readonly failures: Map<string, Failure>;

  constructor(
    /** The delay before answering a login, per earlier failure of the client (capped at maxDelayMs). */
    private readonly stepMs = 1000,
    private readonly maxDelayMs = 30_000,
    private readonly forgetMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
    private readonly maxTracked = MAX_TRACKED_FAILURES,
    shared?: Map<string, Failure>,
  ) {
    this.failures = shared ?? new Map();
  }

  /** The same counts with another delay per failure (each service keeps its own step). */
  withStep(stepMs: number): AuthFailures {
    return new AuthFailures(stepMs, this.maxDelayMs, this.forgetMs, this.now, this.maxTracked, this.failures);
  }

  /** How long to wait before answering this client's next login. */
  delayMs(address: string): number {
    const f = this.current(penaltyKey(address));
    return f ? Math.min(f.count * this.stepMs, this.maxDelayMs) : 0;
  }

  fail(address: string): void {
    const key = penaltyKey(address);
    const count = (this.current(key)?.count ?? 0) + 1;
    // Re-inserted: the map's order is then least recently failed first.
    this.failures.delete(key);
    this.failures.set(key, { count, last: this.now() });
    for (const [oldest, f] of this.failures) {
      if (this.failures.size <= this.maxTracked && this.now() - f.last < this.forgetMs) break;
      this.failures.delete(oldest);
    }
  }

  /** Clients remembered now (for tests and a status line). */
  get tracked(): number {
    return this.failures.size;
  }

  private current(key: string): Failure | undefined {
    const f = this.failures.get(key);
    if (f && this.now() - f.last >= this.forgetMs) {
      this.failures.delete(key);
      return undefined;
    }
    return f;
  }
}
