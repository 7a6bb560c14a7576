/**
 * Postfix's next-hop syntax for `relay_host` (postconf(5) relayhost), a pure parser: `[host]:port` and
 * `[host]` go to that host with no MX lookup; `host:port` and `host` look up the MX records of `host`
 * (falling back to its A/AAAA records). An IPv6 address is written in brackets, optionally with Postfix's
 * `ipv6:` prefix: `[ipv6:2001:db8::1]:587`.
 */
import { isIP } from 'node:net';

export interface NextHop {
  /** A host name or an IP address (without brackets). */
  readonly host: string;
  /** undefined: the default SMTP port. */
  readonly port?: number;
  /** Whether to look up MX records of `host` (false for the bracketed form). */
  readonly mx: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function port(text: string | undefined): number | undefined | Error {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) return new Error(`bad port "${text}"`);
  return Number(text);
}

/** Parses a relay_host value; an Error (with what is wrong) for anything else. */
export function parseRelayHost(value: string): NextHop | Error {
  const text = value.trim();
  const bracketed = /^\[([^\]]*)\](?::([^:]*))?$/.exec(text);
  if (bracketed !== null) {
    const inner = (bracketed[1] as string).replace(/^ipv6:/i, '');
    const p = port(bracketed[2]);
    if (p instanceof Error) return new Error(`relay_host "${value}": ${p.message}`);
    if (isIP(inner) === 0 && !HOSTNAME.test(inner)) return new Error(`relay_host "${value}": bad host "${inner}"`);
    return p === undefined ? { host: inner, mx: false } : { host: inner, port: p, mx: false };
  }
  const plain = /^([^:[\]]+)(?::([^:]*))?$/.exec(text);
  if (plain === null) return new Error(`relay_host "${value}": expected [host]:port, [host], host:port or host`);
  const host = plain[1] as string;
  const p = port(plain[2]);
  if (p instanceof Error) return new Error(`relay_host "${value}": ${p.message}`);
  if (isIP(host) !== 0) return p === undefined ? { host, mx: false } : { host, port: p, mx: false };
  if (!HOSTNAME.test(host)) return new Error(`relay_host "${value}": bad host "${host}"`);
  return p === undefined ? { host, mx: true } : { host, port: p, mx: true };
}
