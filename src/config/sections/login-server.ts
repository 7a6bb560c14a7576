/**
 * The keys [imap] and [pop3] share (a mailbox server that users log in to): the plain and implicit-TLS
 * listeners, who may send a password before TLS, the connection limits, the failed-login limit, and an
 * idle timeout with the floor its RFC sets.
 */
import type { TableReader } from '../reader.js';
import type { LoginServerConfig } from '../schema.js';
import { readListen, readNetworks } from './listen.js';

export const LOGIN_SERVER_KEYS = [
  'listen',
  'tls_listen',
  'plaintext_auth_networks',
  'connection_limit',
  'client_connection_limit',
  'auth_failure_limit',
  'idle_timeout',
] as const;

export function readLoginServer(r: TableReader, d: LoginServerConfig, idleFloor: { seconds: number; why: string }): LoginServerConfig {
  const count = (key: string, min: number): number | undefined => r.number(key, { integer: true, min });
  const idle = r.seconds('idle_timeout');
  if (idle !== undefined && idle < idleFloor.seconds) throw r.error('idle_timeout', `must be at least ${idleFloor.seconds} seconds (${idleFloor.why})`);
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
