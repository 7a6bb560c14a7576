/**
 * The IMAP server's log lines: one per login and one per session end, in the spirit of Dovecot's
 * "imap-login: Login: user=<alice>, method=PLAIN, rip=..., TLS" and "imap(alice): Logged out in=.. out=..",
 * with the same facts as fields for JSON logs.
 */
import type { Logger } from '../mail/logger.js';

export function logLogin(logger: Logger, f: { user: string; client: string; method: string; tls: boolean }): void {
  logger.info(
    { event: 'imap-login', user: f.user, client: f.client, method: f.method, tls: f.tls },
    `imap login: user=<${f.user}>, method=${f.method}, rip=${f.client}${f.tls ? ', TLS' : ''}`,
  );
}

export function logLoginFailed(logger: Logger, f: { login: string; client: string; method: string; tls: boolean; reason: string }): void {
  logger.warn(
    { event: 'imap-login-failed', login: f.login, client: f.client, method: f.method, tls: f.tls, reason: f.reason },
    `imap login failed: user=<${f.login}>, method=${f.method}, rip=${f.client}${f.tls ? ', TLS' : ''}: ${f.reason}`,
  );
}

export function logLogout(
  logger: Logger,
  f: { user: string | undefined; client: string; tls: boolean; bytesIn: number; bytesOut: number; seconds: number; reason: string },
): void {
  const who = f.user === undefined ? 'imap disconnected before login' : `imap logout: user=<${f.user}>`;
  logger.info(
    { event: 'imap-logout', ...(f.user === undefined ? {} : { user: f.user }), client: f.client, tls: f.tls, in: f.bytesIn, out: f.bytesOut, seconds: f.seconds, reason: f.reason },
    `${who}, rip=${f.client}${f.tls ? ', TLS' : ''}: ${f.reason} in=${f.bytesIn} out=${f.bytesOut} secs=${f.seconds}`,
  );
}
