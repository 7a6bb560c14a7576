/** [pop3]: the POP3 server's listeners (plain with STLS, implicit TLS) and its limits, read as [submission]'s. */
import { DEFAULT_POP3 } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { Pop3Config } from '../schema.js';
import { readListen, readNetworks } from './listen.js';

export const POP3_KEYS = [
  'listen',
  'tls_listen',
  'plaintext_auth_networks',
  'connection_limit',
  'client_connection_limit',
  'auth_failure_limit',
  'idle_timeout',
] as const;

export function readPop3(r: TableReader): Pop3Config {
  r.checkKeys(POP3_KEYS);
  const d = DEFAULT_POP3;
  const count = (key: string, min: number): number | undefined => r.number(key, { integer: true, min });
  const idle = r.seconds('idle_timeout');
  // RFC 1939 §3: an inactivity timer of at least 10 minutes.
  if (idle !== undefined && idle < 600) throw r.error('idle_timeout', 'must be at least 600 seconds (10 minutes, RFC 1939)');
  return {
    listen: readListen(r, 'listen') ?? [...d.listen],
    tlsListen: readListen(r, 'tls_listen') ?? [...d.tlsListen],
    plaintextAuthNetworks: readNetworks(r, 'plaintext_auth_networks') ?? [...d.plaintextAuthNetworks],
    connectionLimit: count('connection_limit', 0) ?? d.connectionLimit,
    clientConnectionLimit: count('client_connection_limit', 0) ?? d.clientConnectionLimit,
    authFailureLimit: count('auth_failure_limit', 1) ?? d.authFailureLimit,
    idleTimeout: idle ?? d.idleTimeout,
  };
}
