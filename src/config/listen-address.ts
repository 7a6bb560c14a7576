/**
 * Listening addresses of the SMTP servers as written in mailgate.toml: `HOST:PORT`, `[IPV6]:PORT`
 * (Postfix's master.cf form, and the Postfix form connection_spec accepts). Pure, so the parser is fuzzed alone.
 */
import { isIP } from 'node:net';
import { isHostName } from './host-name.js';
import type { ListenAddress } from './schema.js';

/** A port 1..65535 written in decimal digits only, or undefined. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** The address `text` names, or why it names none (said after the quoted text). */
export function parseListenAddress(text: string): ListenAddress | { readonly problem: string } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (m === null) return { problem: 'is not HOST:PORT (e.g. "127.0.0.1:2525", "0.0.0.0:25", "[::1]:25")' };
  const port = parsePort(m[3] ?? '');
  if (port === undefined) return { problem: `port "${m[3] ?? ''}" is not a number from 1 to 65535` };
  const bracketed = m[1];
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6 || bracketed.includes('%')) return { problem: `"[${bracketed}]" is not an IPv6 address` };
    return { host: bracketed, port };
  }
  const host = m[2] ?? '';
  if (isIP(host) === 4 || isHostName(host)) return { host, port };
  return { problem: `"${host}" is not an IPv4 address or host name (IPv6 goes in brackets: "[::1]:25")` };
}

/** As written back in show-config: IPv6 in brackets. */
export function formatListenAddress(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
