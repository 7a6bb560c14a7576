/** [imap]: the IMAP server's listeners (plain with STARTTLS, implicit TLS) and its limits, read as [pop3]'s. */
import { DEFAULT_IMAP } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { ImapConfig } from '../schema.js';
import { readListen, readNetworks } from './listen.js';

export const IMAP_KEYS = [
  'listen',
  'tls_listen',
  'plaintext_auth_networks',
  'connection_limit',
  'client_connection_limit',
  'user_connection_limit',
  'auth_failure_limit',
  'login_timeout',
  'idle_timeout',
  'idle_keepalive',
  'append_limit',
  'max_line_length',
  'greeting',
] as const;

export function readImap(r: TableReader): ImapConfig {
  r.checkKeys(IMAP_KEYS);
  const d = DEFAULT_IMAP;
  const count = (key: string, min: number): number | undefined => r.number(key, { integer: true, min });
  const idle = r.seconds('idle_timeout');
  // RFC 3501 §5.4: an autologout timer of at least 30 minutes once logged in.
  if (idle !== undefined && idle < 1800) throw r.error('idle_timeout', 'must be at least 1800 seconds (30 minutes, RFC 3501)');
  const greeting = r.string('greeting');
  if (greeting !== undefined && /[\r\n[\]]/.test(greeting)) throw r.error('greeting', 'must be one line without [ or ]');
  return {
    listen: readListen(r, 'listen') ?? [...d.listen],
    tlsListen: readListen(r, 'tls_listen') ?? [...d.tlsListen],
    plaintextAuthNetworks: readNetworks(r, 'plaintext_auth_networks') ?? [...d.plaintextAuthNetworks],
    connectionLimit: count('connection_limit', 0) ?? d.connectionLimit,
    clientConnectionLimit: count('client_connection_limit', 0) ?? d.clientConnectionLimit,
    userConnectionLimit: count('user_connection_limit', 0) ?? d.userConnectionLimit,
    authFailureLimit: count('auth_failure_limit', 1) ?? d.authFailureLimit,
    loginTimeout: r.seconds('login_timeout') ?? d.loginTimeout,
    idleTimeout: idle ?? d.idleTimeout,
    idleKeepalive: r.seconds('idle_keepalive') ?? d.idleKeepalive,
    // At least a small message; the literal limit of the wire reader follows this.
    appendLimit: count('append_limit', 1024) ?? d.appendLimit,
    // RFC 7162 §4 asks servers to take command lines of at least 8,192 octets.
    maxLineLength: count('max_line_length', 8192) ?? d.maxLineLength,
    greeting: greeting ?? d.greeting,
  };
}
