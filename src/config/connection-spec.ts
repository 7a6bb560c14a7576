/** milter-manager style connection specs: unix:/path, inet:PORT[@HOST|@[ADDR]], inet6:PORT[@[ADDR]]. */
import { isIP } from 'node:net';

export type ConnectionSpec =
  | { readonly type: 'unix'; readonly path: string }
  | { readonly type: 'inet'; readonly port: number; readonly host: string; readonly family: 4 | 6 };

export class SpecError extends Error {
  override readonly name = 'SpecError';
}

export function parseConnectionSpec(spec: string): ConnectionSpec {
  const colon = spec.indexOf(':');
  if (colon === -1) throw new SpecError(`connection spec "${spec}": expected unix:PATH, inet:PORT@HOST or inet6:PORT@ADDR`);
  const scheme = spec.slice(0, colon).toLowerCase();
  const rest = spec.slice(colon + 1);
  if (scheme === 'unix' || scheme === 'local') {
    if (rest.length === 0) throw new SpecError(`connection spec "${spec}": empty socket path`);
    return { type: 'unix', path: rest };
  }
  if (scheme !== 'inet' && scheme !== 'inet6') {
    throw new SpecError(`connection spec "${spec}": unknown type "${scheme}" (use unix, inet or inet6)`);
  }
  const at = rest.indexOf('@');
  const portText = at === -1 ? rest : rest.slice(0, at);
  let host = at === -1 ? '' : rest.slice(at + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new SpecError(`connection spec "${spec}": port "${portText}" is not a number from 0 to 65535`);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const family: 4 | 6 = scheme === 'inet6' ? 6 : 4;
  if (at === -1) host = family === 6 ? '::' : '0.0.0.0';
  if (host.length === 0 || /[\s[\]]/.test(host)) throw new SpecError(`connection spec "${spec}": bad host "${host}"`);
  const ipFamily = isIP(host);
  if (ipFamily !== 0 && ipFamily !== family && !(scheme === 'inet' && ipFamily === 6)) {
    throw new SpecError(`connection spec "${spec}": address ${host} is not IPv${family}`);
  }
  return { type: 'inet', port: Number(portText), host, family: ipFamily === 6 ? 6 : family };
}

export function formatConnectionSpec(spec: ConnectionSpec): string {
  if (spec.type === 'unix') return `unix:${spec.path}`;
  return `${spec.family === 6 ? 'inet6' : 'inet'}:${spec.port}@[${spec.host}]`;
}
