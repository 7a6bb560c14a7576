/** Builds ConditionContexts for condition tests. */
import type { ConditionContext } from '../../../src/chain/condition.js';
import type { ConnectionInfo } from '../../../src/mail/connection.js';
import { canonicalMacroName, type Macros } from '../../../src/mail/macros.js';

export function macros(values: Record<string, string> = {}): Macros {
  const map = new Map(Object.entries(values).map(([k, v]) => [canonicalMacroName(k), v]));
  return {
    get: (name) => map.get(canonicalMacroName(name)),
    all: () => Object.fromEntries(map),
    forStage: () => [],
  };
}

export interface CtxInit {
  connection?: ConnectionInfo;
  helo?: string;
  sender?: string;
  recipient?: string;
  recipients?: string[];
  macros?: Record<string, string>;
  concurrentSessions?: number;
}

export function ctx(init: CtxInit = {}): ConditionContext {
  return {
    ...(init.connection ? { connection: init.connection } : {}),
    ...(init.helo !== undefined ? { helo: init.helo } : {}),
    ...(init.sender !== undefined ? { sender: init.sender } : {}),
    ...(init.recipient !== undefined ? { recipient: init.recipient } : {}),
    recipients: init.recipients ?? [],
    macros: macros(init.macros),
    concurrentSessions: init.concurrentSessions ?? 1,
  };
}

/** An IPv4/IPv6 client with a reverse-DNS name. */
export function inet(address: string, hostname = `[${address}]`): ConnectionInfo {
  return { hostname, family: address.includes(':') ? 'inet6' : 'inet', address, port: 40000 };
}

export function unixClient(path = '/run/smtpd.sock'): ConnectionInfo {
  return { hostname: 'localhost', family: 'unix', path, port: 0 };
}

export function connectCtx(connection: ConnectionInfo, extra: CtxInit = {}): ConditionContext {
  return ctx({ ...extra, connection });
}
