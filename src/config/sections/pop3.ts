/** [pop3]: the POP3 server's listeners (plain with STLS, implicit TLS) and its limits, read as [imap]'s. */
import { DEFAULT_POP3 } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { Pop3Config } from '../schema.js';
import { LOGIN_SERVER_KEYS, readLoginServer } from './login-server.js';

export const POP3_KEYS = LOGIN_SERVER_KEYS;

export function readPop3(r: TableReader): Pop3Config {
  r.checkKeys(POP3_KEYS);
  // RFC 1939 §3: an inactivity timer of at least 10 minutes.
  return readLoginServer(r, DEFAULT_POP3, { seconds: 600, why: '10 minutes, RFC 1939' });
}
