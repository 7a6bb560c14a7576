/** [imap]: the IMAP server's listeners (plain with STARTTLS, implicit TLS) and its limits. */
import { DEFAULT_IMAP } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { ImapConfig } from '../schema.js';
import { LOGIN_SERVER_KEYS, readLoginServer } from './login-server.js';

export const IMAP_KEYS = [
  ...LOGIN_SERVER_KEYS,
  'user_connection_limit',
  'login_timeout',
  'idle_keepalive',
  'append_limit',
  'max_line_length',
  'greeting',
] as const;

export function readImap(r: TableReader): ImapConfig {
  r.checkKeys(IMAP_KEYS);
  const d = DEFAULT_IMAP;
  const count = (key: string, min: number): number | undefined => r.number(key, { integer: true, min });
  const greeting = r.string('greeting');
  if (greeting !== undefined && /[\r\n[\]]/.test(greeting)) throw r.error('greeting', 'must be one line without [ or ]');
  return {
    // RFC 3501 §5.4: an autologout timer of at least 30 minutes once logged in.
    ...readLoginServer(r, d, { seconds: 1800, why: '30 minutes, RFC 3501' }),
    userConnectionLimit: count('user_connection_limit', 0) ?? d.userConnectionLimit,
    loginTimeout: r.seconds('login_timeout') ?? d.loginTimeout,
    idleKeepalive: r.seconds('idle_keepalive') ?? d.idleKeepalive,
    // At least a small message; the literal limit of the wire reader follows this.
    appendLimit: count('append_limit', 1024) ?? d.appendLimit,
    // RFC 7162 §4 asks servers to take command lines of at least 8,192 octets.
    maxLineLength: count('max_line_length', 8192) ?? d.maxLineLength,
    greeting: greeting ?? d.greeting,
  };
}
