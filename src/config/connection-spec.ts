/**
 * Connection specs in milter-manager's spelling (unix:/path, inet:PORT[@HOST|@[ADDR]], inet6:PORT[@[ADDR]])
 * and in Postfix's (inet:HOST:PORT, inet:[ADDR]:PORT), so a line copied from main.cf's smtpd_milters works.
 */
import { isIP } from 'node:net';

export type ConnectionSpec =
  | { readonly type: 'unix'; readonly path: string }
  | { readonly type: 'inet'; readonly port: number; readonly host: string; readonly family: 4 | 6 };

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

/** Named in every error, so a wrong spec says what would have been right. */
export const ACCEPTED_SPEC_FORMS =
  'unix:PATH, inet:PORT@HOST, inet:PORT@[ADDR], inet6:PORT@ADDR (milter), inet:HOST:PORT or inet:[ADDR]:PORT (Postfix)';

export function parseConnectionSpec(spec: string): ConnectionSpec {
  const fail = (why: string): SpecError => new SpecError(`connection spec "${spec}": ${why} (accepted: ${ACCEPTED_SPEC_FORMS})`);
  const colon = spec.indexOf(':');
  if (colon === -1) throw new SpecError(`connection spec "${spec}": expected ${ACCEPTED_SPEC_FORMS}`);
  const scheme = spec.slice(0, colon).toLowerCase();
  const rest = spec.slice(colon + 1);
  if (scheme === 'unix' || scheme === 'local') {
    if (rest.length === 0) throw fail('empty socket path');
    return { type: 'unix', path: rest };
  }
  if (scheme !== 'inet' && scheme !== 'inet6') throw fail(`unknown type "${scheme}"`);
  const { portText, host: written } = splitHostPort(rest);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw fail(`port "${portText}" is not a number from 0 to 65535`);
  let host = written ?? '';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const family: 4 | 6 = scheme === 'inet6' ? 6 : 4;
  if (written === undefined) host = family === 6 ? '::' : '0.0.0.0';
  if (host.length === 0 || /[\s[\]]/.test(host)) throw fail(`bad host "${host}"`);
  const ipFamily = isIP(host);
  if (ipFamily !== 0 && ipFamily !== family && !(scheme === 'inet' && ipFamily === 6)) throw fail(`address ${host} is not IPv${family}`);
  return { type: 'inet', port: Number(portText), host, family: ipFamily === 6 ? 6 : family };
}

/**
 * PORT@HOST (milter), PORT alone, or Postfix's HOST:PORT / [ADDR]:PORT. Postfix's form is recognised only
 * when there is no '@' and one ":" follows a host (or a bracketed address), so "10025" stays a bare port.
 */
function splitHostPort(rest: string): { portText: string; host: string | undefined } {
  const at = rest.indexOf('@');
  if (at !== -1) return { portText: rest.slice(0, at), host: rest.slice(at + 1) };
  const postfix = /^(\[[^\]]*\]|[^:[\]]+):([^:]*)$/.exec(rest);
  if (postfix !== null) return { portText: postfix[2] ?? '', host: postfix[1] };
  return { portText: rest, host: undefined };
}

export function formatConnectionSpec(spec: ConnectionSpec): string {
  if (spec.type === 'unix') return `unix:${spec.path}`;
  return `${spec.family === 6 ? 'inet6' : 'inet'}:${spec.port}@[${spec.host}]`;
}
