/**
 * The `lmtp` setting as delivery connects to it: the configuration's own connection-spec parser (Postfix's
 * "inet:HOST:PORT", the milter spelling "inet:PORT@HOST", "unix:/PATH"), narrowed to what can be dialled.
 */
import { parseConnectionSpec } from '../config/connection-spec.js';

export type LmtpEndpoint = { readonly kind: 'inet'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export function parseLmtpEndpoint(value: string): LmtpEndpoint | Error {
  let spec;
  try {
    spec = parseConnectionSpec(value.trim());
  } catch (err) {
    return new Error(`lmtp: ${(err as Error).message}`);
  }
  if (spec.type === 'unix') {
    // The configuration makes a relative path absolute against its own directory before it gets here.
    if (!spec.path.startsWith('/') || spec.path.includes('\0')) return new Error(`lmtp "${value}": a unix socket needs an absolute path`);
    return { kind: 'unix', path: spec.path };
  }
  if (spec.port === 0 || !/[:@]/.test(value.slice(value.indexOf(':') + 1))) return new Error(`lmtp "${value}": name the host and a port, e.g. "inet:127.0.0.1:24"`);
  return { kind: 'inet', host: spec.host, port: spec.port };
}
