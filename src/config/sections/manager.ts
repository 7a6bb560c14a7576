/** [manager]: where and how the manager listens, and what answers when nothing else can. */
import { parseMode } from '../socket-mode.js';
import { parseConnectionSpec } from '../connection-spec.js';
import { DEFAULT_MANAGER, FALLBACK_STATUS_ALIASES, FALLBACK_STATUSES } from '../defaults.js';
import { describeValue, type TableReader } from '../reader.js';
import type { ManagerConfig } from '../schema.js';

export const MANAGER_KEYS = [
  'connection_spec',
  'unix_socket_mode',
  'unix_socket_group',
  'fallback_status',
  'max_connections',
  'detect',
] as const;

/** Reads [manager] (an empty table when absent: every value is then a default). */
export function readManager(r: TableReader): ManagerConfig {
  r.checkKeys(MANAGER_KEYS);
  const spec = r.string('connection_spec', 'a connection spec like unix:/PATH or inet:PORT@HOST');
  if (spec !== undefined) checkConnectionSpec(spec, (msg) => r.error('connection_spec', msg));
  const modeText = r.string('unix_socket_mode', 'an octal mode in quotes, like "0660"');
  const mode = modeText === undefined ? DEFAULT_MANAGER.unixSocketMode : checkMode(modeText, (msg) => r.error('unix_socket_mode', msg));
  const group = readGroup(r);
  const manager: ManagerConfig = {
    connectionSpec: spec ?? DEFAULT_MANAGER.connectionSpec,
    unixSocketMode: mode,
    fallbackStatus: r.oneOf('fallback_status', FALLBACK_STATUSES, FALLBACK_STATUS_ALIASES) ?? DEFAULT_MANAGER.fallbackStatus,
    maxConnections: r.number('max_connections', { integer: true, min: 0 }) ?? DEFAULT_MANAGER.maxConnections,
    detect: r.boolean('detect') ?? DEFAULT_MANAGER.detect,
  };
  return group === undefined ? manager : { ...manager, unixSocketGroup: group };
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
