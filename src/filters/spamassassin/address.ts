/**
 * Where spamd listens, written like a milter connection spec: `unix:/run/spamd.sock`,
 * `inet:783@127.0.0.1`, `inet6:783@[::1]`. Without a host, spamd is on this machine (spamc's default),
 * not on the wildcard address a listening spec would mean.
 */
import { parseConnectionSpec, SpecError } from '../../config/connection-spec.js';

export type SpamdAddress = { readonly path: string } | { readonly host: string; readonly port: number };

export const DEFAULT_SPAMD = 'inet:783@127.0.0.1';

/** Throws SpecError with a message that names the spec. */
export function parseSpamdAddress(spec: string): SpamdAddress {
  const parsed = parseConnectionSpec(spec);
  if (parsed.type === 'unix') return { path: parsed.path };
  if (parsed.port === 0) throw new SpecError(`connection spec "${spec}": spamd's port cannot be 0`);
  const hostGiven = spec.includes('@');
  const host = hostGiven ? parsed.host : parsed.family === 6 ? '::1' : '127.0.0.1';
  return { host, port: parsed.port };
}

export function describeSpamdAddress(address: SpamdAddress): string {
  return 'path' in address ? `unix:${address.path}` : `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
