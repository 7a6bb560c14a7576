/**
 * Per-client-address limits of the SMTP server, as Postfix's anvil keeps them: concurrent connections
 * (smtpd_client_connection_count_limit) and failed AUTH attempts (both shared with IMAP and POP3, in
 * mail/client-limits.ts), and here messages per minute (smtpd_client_message_rate_limit). In memory: the
 * counts are per process.
 */
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
