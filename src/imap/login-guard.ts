/**
 * Who may try a password, and how fast. Plaintext LOGIN/AUTHENTICATE only over TLS, except from
 * plaintext_auth_networks (loopback by default), as Dovecot's disable_plaintext_auth does; elsewhere the
 * server advertises LOGINDISABLED and answers NO [PRIVACYREQUIRED]. A failed login is answered after a
 * delay that grows with the address's recent failures (Dovecot's auth_failure_delay, Postfix's
 * smtpd_error_sleep_time), and the connection gets BYE after auth_failure_limit failures.
 */
import { NetworkList } from '../mail/network-list.js';
import { AuthFailures } from '../mail/client-limits.js';

export interface LoginGuardOptions {
  readonly plaintextAuthNetworks: readonly string[];
  /** Failed logins in one connection before BYE (0: no limit). */
  readonly authFailureLimit: number;
  /** Delay added per recent failure of the address (default 2,000 ms, Dovecot's auth_failure_delay). */
  readonly failureDelayMs?: number;
  /** Failed-login counts shared with POP3 (client-limits.ts); default: the guard's own. */
  readonly failures?: AuthFailures;
}

export class LoginGuard {
  private readonly plaintext: NetworkList;
  private readonly failures: AuthFailures;
  readonly failureLimit: number;

  constructor(options: LoginGuardOptions) {
    this.plaintext = new NetworkList(options.plaintextAuthNetworks);
    this.failures = options.failures?.withStep(options.failureDelayMs ?? 2000) ?? new AuthFailures(options.failureDelayMs ?? 2000);
    this.failureLimit = options.authFailureLimit;
  }

  /** A password may be sent on this connection. */
  plaintextAllowed(clientAddress: string, tls: boolean): boolean {
    return tls || this.plaintext.has(clientAddress);
  }

  /** How long the address waits before any login is answered (its earlier failures). */
  delayMs(clientAddress: string): number {
    return this.failures.delayMs(clientAddress);
  }

  /** Counts a failure of the address; the delay to wait before answering it. */
  fail(clientAddress: string): number {
    this.failures.fail(clientAddress);
    return this.failures.delayMs(clientAddress);
  }
}
