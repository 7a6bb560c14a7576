/**
 * The POP3 server's log lines: one per login and one per logout, in the words Dovecot uses (`Login:`,
 * `Disconnected: Logged out`, the retr/del counts) so an administrator's grep works on both, with the
 * client address, the user and the session's byte counts as fields.
 */
import type { Logger } from '../mail/logger.js';

export interface SessionCounts {
  readonly retrieved: number;
  readonly retrievedBytes: number;
  readonly topCount: number;
  readonly topBytes: number;
  readonly deleted: number;
  readonly deletedBytes: number;
  /** Octets read from and written to the client in the whole connection. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export function logLogin(logger: Logger, f: { user: string; client: string; method: string; tls: boolean; session: string }): void {
  logger.info(
    { event: 'pop3-login', user: f.user, client: f.client, method: f.method, tls: f.tls, session: f.session },
    `pop3-login: Login: user=<${f.user}>, method=${f.method}, rip=${f.client}${f.tls ? ', TLS' : ''}, session=<${f.session}>`,
  );
}

export function logLogout(logger: Logger, f: { user: string; client: string; reason: string; session: string; counts: SessionCounts; messages: number; size: number }): void {
  const c = f.counts;
  logger.info(
    {
      event: 'pop3-logout',
      user: f.user,
      client: f.client,
      session: f.session,
      reason: f.reason,
      retrieved: c.retrieved,
      retrievedBytes: c.retrievedBytes,
      deleted: c.deleted,
      deletedBytes: c.deletedBytes,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
    },
    `pop3(${f.user})<${f.client}>: ${f.reason} top=${c.topCount}/${c.topBytes}, retr=${c.retrieved}/${c.retrievedBytes}, del=${c.deleted}/${f.messages}, size=${f.size}, in=${c.bytesIn}, out=${c.bytesOut}`,
  );
}

export function logAuthFailure(logger: Logger, f: { login: string; client: string; method: string; failures: number; session: string }): void {
  logger.warn(
    { event: 'pop3-auth-failed', login: f.login, client: f.client, method: f.method, failures: f.failures, session: f.session },
    `pop3-login: Authentication failed: user=<${f.login}>, method=${f.method}, rip=${f.client}, failures=${f.failures}, session=<${f.session}>`,
  );
}
