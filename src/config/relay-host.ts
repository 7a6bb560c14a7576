/**
 * Postfix's relayhost syntax: `[host]:port`, `[host]`, `host:port`, `host`. Brackets turn the MX lookup off
 * (the host's A/AAAA records, or the address itself); an IP address must be bracketed (Postfix would look
 * up its PTR name and then MX records: never what was meant). Pure, so it is fuzzed alone.
 */
import { isIP } from 'node:net';
import { isHostName } from './host-name.js';
import { parsePort } from './listen-address.js';
import type { RelayHost } from './schema.js';

/** SMTP's port, used when none is written (as Postfix does). */
const SMTP_PORT = 25;

export function parseRelayHost(text: string): RelayHost | { readonly problem: string } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::([^:]*))?$/.exec(text);
  if (m === null) return { problem: 'is not in Postfix\'s relayhost syntax: "[host]:port", "[host]", "host:port" or "host"' };
  const portText = m[3];
  const port = portText === undefined ? SMTP_PORT : parsePort(portText);
  if (port === undefined) return { problem: `port "${portText ?? ''}" is not a number from 1 to 65535` };
  const bracketed = m[1];
  if (bracketed !== undefined) {
    const ok = (isIP(bracketed) !== 0 && !bracketed.includes('%')) || isHostName(bracketed);
    if (!ok) return { problem: `"${bracketed}" is not a host name or IP address` };
    return { host: bracketed, port, mx: false, text };
  }
  const host = m[2] ?? '';
  if (isIP(host) !== 0) return { problem: `an IP address must be in brackets ("[${host}]${portText === undefined ? '' : `:${port}`}"): without them Postfix looks up MX records` };
  if (!isHostName(host)) return { problem: `"${host}" is not a host name` };
  return { host, port, mx: true, text };
}
