/** [manager]: where and how the manager listens, and what answers when nothing else can. */
import { isIP } from 'node:net';
import { parseMode } from '../socket-mode.js';
import { parseConnectionSpec } from '../connection-spec.js';
import { resolveSpecPath } from '../paths.js';
import { DEFAULT_MANAGER, FALLBACK_STATUS_ALIASES, FALLBACK_STATUSES } from '../defaults.js';
import { describeValue, type TableReader } from '../reader.js';
import type { ManagerConfig } from '../schema.js';

export const MANAGER_KEYS = [
  'connection_spec',
  'unix_socket_mode',
  'unix_socket_group',
  'fallback_status',
  'max_connections',
  'mta_timeout',
  'detect',
  'data_dir',
  'dns_servers',
] as const;

/**
 * Reads [manager] (an empty table when absent: every value is then a default). Its data_dir (deprecated)
 * is read with the top-level one, by readDataDir. A relative unix socket path is resolved against `baseDir`.
 */
export function readManager(r: TableReader, baseDir: string): ManagerConfig {
  r.checkKeys(MANAGER_KEYS);
  const written = r.string('connection_spec', 'a connection spec like unix:/PATH or inet:PORT@HOST');
  if (written !== undefined) checkConnectionSpec(written, (msg) => r.error('connection_spec', msg));
  const spec = written === undefined ? undefined : resolveSpecPath(baseDir, written);
  const modeText = r.string('unix_socket_mode', 'an octal mode in quotes, like "0660"');
  const mode = modeText === undefined ? DEFAULT_MANAGER.unixSocketMode : checkMode(modeText, (msg) => r.error('unix_socket_mode', msg));
  const group = readGroup(r);
  const manager: ManagerConfig = {
    connectionSpec: spec ?? DEFAULT_MANAGER.connectionSpec,
    unixSocketMode: mode,
    fallbackStatus: r.oneOf('fallback_status', FALLBACK_STATUSES, FALLBACK_STATUS_ALIASES) ?? DEFAULT_MANAGER.fallbackStatus,
    maxConnections: r.number('max_connections', { integer: true, min: 0 }) ?? DEFAULT_MANAGER.maxConnections,
    mtaTimeout: r.seconds('mta_timeout') ?? DEFAULT_MANAGER.mtaTimeout,
    detect: r.boolean('detect') ?? DEFAULT_MANAGER.detect,
    dnsServers: r.stringArray('dns_servers', (v, path) => checkDnsServer(v, (msg) => r.ctx.error(path, msg))) ?? [],
  };
  return group === undefined ? manager : { ...manager, unixSocketGroup: group };
}

/** "ADDRESS" or "ADDRESS:PORT" with IPv6 in brackets, as dns.Resolver.setServers takes them. */
export function checkDnsServer(server: string, fail: (message: string) => Error): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server) ?? /^([0-9a-fA-F:]+)$/.exec(server);
  const address = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? 53 : Number(m[3]);
  if (address === undefined || isIP(address) === 0 || port < 1 || port > 65535) {
    throw fail(`${JSON.stringify(server)} is not a DNS server address (write "127.0.0.1", "127.0.0.1:5353" or "[::1]:5353")`);
  }
  return server;
}

/** Throws the error built by `fail` when `spec` is not a valid connection spec. */
export function checkConnectionSpec(spec: string, fail: (message: string) => Error): void {
  try {
    parseConnectionSpec(spec);
  } catch (err) {
    throw fail((err as Error).message);
  }
}

export function checkMode(mode: string, fail: (message: string) => Error): number {
  try {
    return parseMode(mode);
  } catch (err) {
    throw fail((err as Error).message);
  }
}

/** A group name or numeric id; resolved only when the socket is created (possibly on another host). */
export function checkGroup(group: string, fail: (message: string) => Error): string {
  if (group.length === 0) throw fail('must not be empty (leave unix_socket_group out for no chgrp)');
  if (/[\s:]/.test(group)) throw fail(`${JSON.stringify(group)} is not a group name or numeric id`);
  return group;
}

function readGroup(r: TableReader): string | undefined {
  r.record('unix_socket_group');
  if (!r.has('unix_socket_group')) return undefined;
  const v = r.data['unix_socket_group'];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v !== 'string') {
    throw r.error('unix_socket_group', `expected a group name or numeric id, got ${describeValue(v)}`);
  }
  return checkGroup(v, (msg) => r.error('unix_socket_group', msg));
}
