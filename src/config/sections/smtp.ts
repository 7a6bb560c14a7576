/** [smtp]: the MX listener and the limits every SMTP listener shares (Postfix's smtpd_* names where it has one). */
import { DEFAULT_SMTP } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { SmtpConfig } from '../schema.js';
import { readListen, readNetworks } from './listen.js';

export const SMTP_KEYS = [
  'listen',
  'mynetworks',
  'message_size_limit',
  'recipient_limit',
  'client_connection_limit',
  'connection_limit',
  'client_message_rate_limit',
  'idle_timeout',
  'session_timeout',
  'xclient_hosts',
  'auth_failure_limit',
  'banner',
] as const;

export function readSmtp(r: TableReader): SmtpConfig {
  r.checkKeys(SMTP_KEYS);
  const d = DEFAULT_SMTP;
  const count = (key: string, min: number): number | undefined => r.number(key, { integer: true, min });
  const banner = r.string('banner');
  if (banner !== undefined && /[\r\n]/.test(banner)) throw r.error('banner', 'must be one line');
  return {
    listen: readListen(r, 'listen') ?? [...d.listen],
    mynetworks: readNetworks(r, 'mynetworks') ?? [...d.mynetworks],
    // 0: no limit, as in Postfix.
    messageSizeLimit: count('message_size_limit', 0) ?? d.messageSizeLimit,
    recipientLimit: count('recipient_limit', 1) ?? d.recipientLimit,
    clientConnectionLimit: count('client_connection_limit', 0) ?? d.clientConnectionLimit,
    connectionLimit: count('connection_limit', 0) ?? d.connectionLimit,
    clientMessageRateLimit: count('client_message_rate_limit', 0) ?? d.clientMessageRateLimit,
    idleTimeout: r.seconds('idle_timeout') ?? d.idleTimeout,
    sessionTimeout: r.seconds('session_timeout') ?? d.sessionTimeout,
    xclientHosts: readNetworks(r, 'xclient_hosts') ?? [],
    authFailureLimit: count('auth_failure_limit', 1) ?? d.authFailureLimit,
    banner: banner ?? d.banner,
  };
}
